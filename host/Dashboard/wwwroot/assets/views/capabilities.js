// #/capabilities: what this node offers for placement. Operators add and remove their own; the engines' entries
// (type plugin) mirror the active VALs and are managed by the plugin catalog, so they are shown but not removable.

import { get, send } from '../api.js';
import { empty, h, replace, sync } from '../dom.js';

const PLUGIN = 'plugin';
// Any type but plugin is accepted; these are the ones the original Motey and its hardware layers use.
const TYPES = ['hardware', 'software'];

export function mount(root, ctx) {
  const name = h('input', { id: 'capability-name', testid: 'capability-name', required: true, maxLength: 256, autocomplete: 'off',
    spellcheck: false, placeholder: 'e.g. camera' });
  const type = h('select', { id: 'capability-type', testid: 'capability-type' }, TYPES.map(t => h('option', { value: t }, t)));
  const add = ctx.guard(h('button', { type: 'submit', class: 'btn btn-primary', testid: 'capability-add' }, 'Add'));
  const form = h('form', { class: 'card add-form', 'aria-labelledby': 'add-title' },
    h('h2', { id: 'add-title' }, 'Add a capability'),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'capability-name' }, 'Name'), name),
      h('div', { class: 'field' }, h('label', { for: 'capability-type' }, 'Type'), type),
      add),
    h('p', { class: 'muted small' }, 'Images that list a capability are placed only on nodes that have it.'));
  const own = h('div');
  const engines = h('div');
  replace(root,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Capabilities'),
      h('p', { class: 'muted' }, 'What this node offers to images that need it.'))),
    h('section', { 'aria-labelledby': 'own-title' }, h('h2', { id: 'own-title', class: 'section-title' }, 'Operator capabilities'), own),
    form,
    h('section', { 'aria-labelledby': 'engine-title' }, h('h2', { id: 'engine-title', class: 'section-title' }, 'Engines'),
      h('p', { class: 'muted small' }, 'Added and removed by the plugin catalog as engines come and go.'), engines));

  const tables = new Map();

  function table(slot, key) {
    if (!tables.has(key)) {
      const rows = h('tbody');
      replace(slot, h('div', { class: 'card table-card' }, h('table', { class: 'table caps-table' },
        h('thead', null, h('tr', null, ...['Capability', 'Type', ''].map(t => h('th', { scope: 'col' }, t)))), rows)));
      tables.set(key, rows);
    }
    return tables.get(key);
  }

  async function change(method, list, done) {
    try {
      const response = await send(method, '/v1/capabilities', { body: list });
      done(response.status === 304);
      return true;
    } catch (error) {
      ctx.toast(error.message, 'error');
      return false;
    } finally {
      refresh();
    }
  }

  async function refresh() {
    let list;
    try {
      list = await get('/v1/capabilities');
    } catch (error) {
      if (error.status !== 401) replace(own, h('div', { class: 'card error-card', role: 'alert' }, `Could not read the capabilities: ${error.message}`));
      tables.clear();
      return;
    }
    list.sort((a, b) => a.capability.localeCompare(b.capability));
    const mine = list.filter(c => c.capability_type !== PLUGIN);
    const theirs = list.filter(c => c.capability_type === PLUGIN);
    if (mine.length) sync(table(own, 'own'), mine, keyOf, createRow, updateRow);
    else {
      tables.delete('own');
      replace(own, empty('empty-capabilities', 'No capabilities — add one below.', 'For example camera (hardware) on the node that has one.'));
    }
    if (theirs.length) sync(table(engines, 'engines'), theirs, keyOf, createRow, updateRow);
    else {
      tables.delete('engines');
      replace(engines, h('p', { class: 'muted' }, 'No engine is active: see Plugins.'));
    }
  }

  function keyOf(c) {
    return `${c.capability_type}\u0000${c.capability}`;
  }

  function createRow(c) {
    const remove = c.capability_type === PLUGIN
      ? h('button', { type: 'button', class: 'btn btn-small', testid: 'capability-remove', disabled: true, title: 'Managed by the plugin catalog' }, 'Remove')
      : ctx.guard(h('button', { type: 'button', class: 'btn btn-small btn-danger-quiet', testid: 'capability-remove', 'aria-label': `Remove ${c.capability}` }, 'Remove'));
    remove.addEventListener('click', () => {
      remove.disabled = true;
      change('DELETE', [{ capability: c.capability, capability_type: c.capability_type }],
        unchanged => ctx.toast(unchanged ? `${c.capability} was not there any more.` : `Removed ${c.capability} (${c.capability_type}).`))
        .then(ok => { if (!ok && !ctx.readOnly()) remove.disabled = false; });
    });
    const row = h('tr', { testid: 'capability-row' },
      h('td', { class: 'strong', 'data-label': 'Capability' }, c.capability),
      h('td', { 'data-label': 'Type' }, h('span', { class: 'badge' }, c.capability_type)),
      h('td', { class: 'actions' }, remove));
    return row;
  }

  function updateRow(row, c) {
    row.dataset.capability = c.capability;
    row.dataset.capabilityType = c.capability_type;
  }

  form.addEventListener('submit', e => {
    e.preventDefault();
    const capability = name.value.trim();
    if (!capability) return;
    add.disabled = true;
    change('PUT', [{ capability, capability_type: type.value }], unchanged => {
      ctx.toast(unchanged ? `This node already has ${capability}.` : `Added ${capability} (${type.value}).`);
      name.value = '';
    }).finally(() => {
      if (!ctx.readOnly()) add.disabled = false;
      name.focus();
    });
  });

  return { title: 'Capabilities', refresh, wants: t => t === 'capability' || t === 'plugin' };
}
