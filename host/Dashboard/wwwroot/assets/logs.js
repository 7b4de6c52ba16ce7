// An image's log panel: the last 200 lines, then new ones as they come (NDJSON over fetch, one {"time","stream","text"}
// per line). Auto-scroll pauses while the reader has scrolled up; the stream stops when the panel closes.

import { send } from './api.js';
import { h } from './dom.js';
import { clock } from './format.js';

const TAIL = 200;
const KEEP = 2000;  // lines kept in the page; older ones are dropped so a chatty image cannot exhaust the tab

export class LogPanel {
  constructor({ serviceId, index, imageName, onClose }) {
    Object.assign(this, { serviceId, index, imageName });
    this.follow = h('input', { type: 'checkbox', id: 'log-follow', testid: 'log-follow', checked: true, onchange: () => this.start() });
    this.status = h('span', { class: 'log-status muted', 'aria-live': 'polite' });
    this.output = h('div', { class: 'log-output', testid: 'log-output', tabindex: 0, role: 'log', 'aria-label': `Logs of ${imageName}` });
    this.output.addEventListener('scroll', () => {
      // Near the bottom: keep following the end; scrolled up: leave the reader where they are.
      const o = this.output;
      this.stick = o.scrollHeight - o.scrollTop - o.clientHeight < 24;
      this.jump.hidden = this.stick;
    });
    this.stick = true;
    this.jump = h('button', { type: 'button', class: 'btn btn-small log-jump', hidden: true, onclick: () => {
      this.output.scrollTop = this.output.scrollHeight;
      this.output.focus();
    } }, 'Scrolled up: auto-scroll paused — jump to the end');
    this.el = h('section', { class: 'card log-panel', testid: 'log-panel', 'aria-label': `Logs of image ${imageName}` },
      h('div', { class: 'log-head' },
        h('h2', null, 'Logs ', h('span', { class: 'muted' }, `images[${index}] ${imageName}`)),
        this.status,
        h('label', { class: 'toggle', for: 'log-follow' }, this.follow, ' Follow'),
        h('button', { type: 'button', class: 'btn btn-small', testid: 'log-close', onclick: () => onClose() }, 'Close')),
      h('div', { class: 'log-body' }, this.output, this.jump));
  }

  /** (Re)reads the last lines; with Follow on, keeps the stream open for new ones. */
  async start() {
    this.stop();
    const controller = this.controller = new AbortController();
    const follow = this.follow.checked;
    this.output.replaceChildren();
    this.stick = true;
    this.jump.hidden = true;
    this.status.textContent = 'loading…';
    const query = new URLSearchParams({ image: String(this.index), tail: String(TAIL), follow: String(follow) });
    try {
      const response = await send('GET', `/v1/service/${encodeURIComponent(this.serviceId)}/logs?${query}`,
        { accept: 'application/x-ndjson', signal: controller.signal });
      this.status.textContent = follow ? 'following' : '';
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const lines = buffer.split('\n');
        buffer = lines.pop();
        this.add(lines);
      }
      if (buffer) this.add([buffer]);
      if (controller === this.controller) {
        this.status.textContent = follow ? 'the instance ended' : '';
        if (!this.output.childElementCount) this.output.append(h('div', { class: 'log-empty muted' }, 'No lines yet.'));
      }
    } catch (error) {
      if (error.name === 'AbortError' || controller !== this.controller) return;
      this.status.textContent = '';
      this.output.append(h('div', { class: 'log-error', role: 'alert' }, error.message));
    }
  }

  add(lines) {
    const fragment = document.createDocumentFragment();
    for (const raw of lines) {
      if (!raw.trim()) continue;
      let line;
      try {
        line = JSON.parse(raw);
      } catch {
        line = { text: raw };
      }
      fragment.append(h('div', { class: `log-line ${line.stream === 'stderr' ? 'stderr' : ''}`, testid: 'log-line' },
        line.time ? h('time', { class: 'log-time', datetime: line.time, title: line.time }, clock(line.time)) : null,
        h('span', { class: 'log-text' }, line.text ?? '')));
    }
    this.output.append(fragment);
    while (this.output.childElementCount > KEEP) this.output.firstElementChild.remove();
    if (this.stick) this.output.scrollTop = this.output.scrollHeight;
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }
}
