// #/deploy: a blueprint editor that posts YAML. The server validates; its errors are shown as it sends them and the
// first one with a position is marked in the line-number gutter, with the caret placed there.

import { ApiError, call, get } from '../api.js';
import { h, replace } from '../dom.js';
import { plural } from '../format.js';

const DRAFT_KEY = 'motey.blueprint';

const EXAMPLE = `# A service of two images on the simulated engine (no Docker needed): each prints a line every second.
service_name: hello
images:
  - name: web
    engine: simulated
  - name: worker
    engine: simulated
    parameters:
      start_delay_ms: 500
`;

/**
 * The position of an error: line/column when the server gives them (ints, 1-based), else read from its text: messages
 * end with "(line L, column C)" and a syntax error's where is "line L, column C".
 */
export function positionOf(error) {
  if (Number.isInteger(error.line)) return { line: error.line, column: Number.isInteger(error.column) ? error.column : 1 };
  for (const text of [error.message, error.where]) {
    const m = /\bline (\d+), column (\d+)/.exec(text ?? '');
    if (m) return { line: Number(m[1]), column: Number(m[2]) };
  }
  return null;
}

export function mount(root, ctx) {
  const editor = h('textarea', {
    id: 'blueprint', class: 'editor-text', testid: 'blueprint-editor', spellcheck: false, wrap: 'off',
    autocapitalize: 'off', autocomplete: 'off', 'aria-describedby': 'blueprint-help',
    placeholder: 'service_name: hello\nimages:\n  - name: web\n    engine: simulated',
  });
  editor.value = sessionStorage.getItem(DRAFT_KEY) ?? '';
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const marker = h('div', { class: 'editor-marker', hidden: true });  // the error box (role alert) announces it
  const band = h('div', { class: 'editor-band', hidden: true });  // the marked line, behind the (transparent) textarea
  const errorList = h('ol', { class: 'error-list' });
  const errorBox = h('div', { class: 'card error-card', hidden: true, role: 'alert' });
  const submit = ctx.guard(h('button', { type: 'submit', class: 'btn btn-primary', testid: 'blueprint-submit' }, 'Deploy'));
  const example = h('button', { type: 'button', class: 'btn', testid: 'blueprint-example' }, 'Insert example');
  const clear = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Clear');
  let marked = null;

  const engines = h('span', { class: 'engines' }, 'docker, process, simulated');
  const form = h('form', { class: 'deploy', 'aria-label': 'Blueprint' },
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, 'Deploy a blueprint'),
        h('p', { class: 'muted', id: 'blueprint-help' }, 'Write or paste a YAML blueprint; the node checks it and places its images. Ctrl+Enter deploys; Tab indents (Esc, then Tab, leaves the editor).'))),
    h('div', { class: 'deploy-grid' },
      h('div', { class: 'deploy-main' },
        h('div', { class: 'toolbar' },
          h('label', { for: 'blueprint', class: 'toolbar-label' }, 'Blueprint (YAML)'),
          h('div', { class: 'actions' }, clear, example, submit)),
        h('div', { class: 'editor card' }, gutter, h('div', { class: 'editor-main' }, band, editor, marker))),
      h('aside', { class: 'deploy-side', 'aria-label': 'Errors and reference' },
        errorBox,
        h('div', { class: 'card reference' },
          h('h2', null, 'Blueprint keys'),
          h('dl', null,
            h('dt', null, h('code', null, 'service_name')), h('dd', null, 'unique among the services that have not ended'),
            h('dt', null, h('code', null, 'images')), h('dd', null, 'a list; each has:'),
            h('dt', { class: 'sub' }, h('code', null, 'name')), h('dd', { class: 'sub' }, 'the image reference (docker), the executable (process), any name (simulated)'),
            h('dt', { class: 'sub' }, h('code', null, 'engine')), h('dd', { class: 'sub' }, 'one of this node\'s engines: ', engines),
            h('dt', { class: 'sub' }, h('code', null, 'parameters')), h('dd', { class: 'sub' }, 'for the engine: ports, environment, command (docker); args, env (process); start_delay_ms, fail (simulated)'),
            h('dt', { class: 'sub' }, h('code', null, 'capabilities')), h('dd', { class: 'sub' }, 'names a node must offer to run the image (see Capabilities)'))))));
  replace(root, form);

  function renderGutter() {
    const count = editor.value.split('\n').length;
    if (gutter.childElementCount !== count) {
      replace(gutter, Array.from({ length: count }, (_, i) => h('div', { class: 'gutter-line' }, String(i + 1))));
      marked = null;
    }
    gutter.scrollTop = editor.scrollTop;
  }

  function unmark() {
    marked?.classList.remove('marked');
    if (marked) { delete marked.dataset.testid; delete marked.dataset.line; }
    marked = null;
    marker.hidden = true;
    band.hidden = true;
  }

  /** Marks the line in the gutter, shows the message beside it and puts the caret at line/column. */
  function mark(position, message) {
    unmark();
    renderGutter();  // one gutter line per text line before one is marked
    const lines = editor.value.split('\n');
    const line = Math.min(Math.max(position.line, 1), lines.length);
    marked = gutter.children[line - 1];
    if (marked) {
      marked.classList.add('marked');
      marked.dataset.testid = 'blueprint-error-line';
      marked.dataset.line = String(position.line);
    }
    const column = Math.min(Math.max(position.column, 1), lines[line - 1].length + 1);
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
    editor.focus();
    editor.setSelectionRange(offset, offset);
    // Scroll the line into the middle of the editor.
    const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
    editor.scrollTop = Math.max(0, (line - 1) * lineHeight - editor.clientHeight / 2);
    // The position is in the marker's first words already: the server's "(line L, column C)" would say it twice.
    marker.textContent = `Line ${position.line}, column ${position.column}: ${message.replace(/\s*\(line \d+, column \d+\)\s*$/, '')}`;
    marker.title = marker.textContent;
    marker.hidden = false;
    band.hidden = false;
    marker.dataset.line = band.dataset.line = String(line);
    placeMarker();
    gutter.scrollTop = editor.scrollTop;
  }

  /** Keeps the band and the message on the marked line while the editor scrolls. */
  function placeMarker() {
    if (marker.hidden) return;
    const style = getComputedStyle(editor);
    const lineHeight = parseFloat(style.lineHeight) || 20;
    const padding = parseFloat(style.paddingTop) || 0;
    const line = Number(marker.dataset.line);
    band.style.top = `${padding + (line - 1) * lineHeight - editor.scrollTop}px`;
    band.style.height = `${lineHeight}px`;
    // On the line itself, at its right end (as "error lens" editors do), so the lines below stay readable.
    marker.style.top = `${padding + (line - 1) * lineHeight - editor.scrollTop}px`;
    marker.style.height = `${lineHeight}px`;
  }

  function showErrors(title, errors) {
    errorBox.hidden = false;
    replace(errorList, errors.map(e => {
      const position = positionOf(e);
      const item = h('li', { class: 'blueprint-error', testid: 'blueprint-error' },
        // A syntax error's where is its position, which the link after it says already.
        e.where && !/^line \d+, column \d+$/.test(e.where) ? h('code', { class: 'where' }, e.where) : null,
        ' ', h('span', null, e.message));
      if (position) {
        item.dataset.line = String(position.line);
        item.dataset.column = String(position.column);
        item.append(' ', h('button', { type: 'button', class: 'btn btn-link', onclick: () => mark(position, e.message) },
          `line ${position.line}, column ${position.column}`));
      }
      return item;
    }));
    replace(errorBox, h('h2', null, title), errorList);
    const first = errors.map(e => ({ e, p: positionOf(e) })).find(x => x.p);
    if (first) mark(first.p, first.e.message);
    else unmark();
  }

  function hideErrors() {
    errorBox.hidden = true;
    replace(errorBox);
    unmark();
  }

  editor.addEventListener('input', () => {
    sessionStorage.setItem(DRAFT_KEY, editor.value);
    unmark();
    renderGutter();
  });
  editor.addEventListener('scroll', () => { gutter.scrollTop = editor.scrollTop; placeMarker(); });
  editor.addEventListener('keydown', e => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    // Tab inserts two spaces (YAML indents with spaces); Escape then Tab leaves the editor, as in other code editors.
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey && !editor.dataset.escaped) {
      e.preventDefault();
      editor.setRangeText('  ', editor.selectionStart, editor.selectionEnd, 'end');
      editor.dispatchEvent(new Event('input'));
    }
    if (e.key === 'Escape') editor.dataset.escaped = '1';
    else if (e.key !== 'Tab') delete editor.dataset.escaped;
  });
  editor.addEventListener('blur', () => delete editor.dataset.escaped);

  example.addEventListener('click', () => {
    editor.value = EXAMPLE;
    editor.dispatchEvent(new Event('input'));
    hideErrors();
    editor.focus();
  });
  clear.addEventListener('click', () => {
    editor.value = '';
    editor.dispatchEvent(new Event('input'));
    hideErrors();
    editor.focus();
  });

  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (submit.disabled) return;  // Ctrl+Enter submits past a disabled button: read-only, or a post under way
    if (!editor.value.trim()) {
      showErrors('Nothing to deploy', [{ message: 'the editor is empty: write a blueprint or insert the example' }]);
      return;
    }
    submit.disabled = true;
    try {
      const service = await call('POST', '/v1/service', { body: editor.value, type: 'application/x-yaml' });
      hideErrors();
      ctx.toast(`Service ${service.service_name} accepted; placing its ${plural(service.images.length, 'image')}.`);
      ctx.navigate(`#/services/${encodeURIComponent(service.id)}`);
    } catch (error) {
      // status 0: fetch itself failed (the node is down or out of reach), not an answer of the node
      if (!(error instanceof ApiError) || error.status === 0) showErrors('Could not reach the node', [{ message: error.message }]);
      else if (error.status === 409 && error.problem?.existing_id) {
        showErrors('A service of this name is still there', [{ message: error.message }]);
        errorBox.append(h('p', null, h('a', { href: `#/services/${encodeURIComponent(error.problem.existing_id)}` }, 'Open it'),
          ', delete it first or choose another service_name.'));
      } else if (error.status !== 401) {
        const errors = error.problem?.errors?.length ? error.problem.errors : [{ message: error.message }];
        const count = error.problem?.error_count ?? errors.length;
        showErrors(error.status === 400 ? `The blueprint has ${plural(count, 'error')}` : `The node refused it (${error.status})`, errors);
      }
    } finally {
      if (!ctx.readOnly()) submit.disabled = false;
    }
  });

  // The engines this node can run, for the reference (a plugin event changes them).
  async function refresh() {
    try {
      const plugins = await get('/v1/plugins');
      const active = plugins.filter(p => p.state === 'Active' && p.type).map(p => p.type);
      engines.textContent = active.length ? active.join(', ') : 'none is active (see Plugins)';
    } catch {
      // the reference keeps the usual three
    }
  }

  renderGutter();

  return { title: 'Deploy', refresh, wants: type => type === 'plugin' };
}
