// #/plugins: every plugin folder with its state (a broken plugin is a state with a reason) and its engine's health.

import { get } from '../api.js';
import { empty, h, replace, sync } from '../dom.js';

export function mount(root) {
  const body = h('div');
  replace(root, h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Plugins'),
    h('p', { class: 'muted' }, 'The VAL plugins this node loaded from its plugins folder, and whether their engines answer.'))), body);
  let rows = null;

  async function refresh() {
    let list;
    try {
      list = await get('/v1/plugins');
    } catch (error) {
      if (error.status !== 401) replace(body, h('div', { class: 'card error-card', role: 'alert' }, `Could not read the plugins: ${error.message}`));
      rows = null;
      return;
    }
    if (!list.length) {
      rows = null;
      replace(body, empty('empty-plugins', 'No plugins — this node cannot run anything.',
        'Put VAL plugins (one folder each) into the plugins folder beside the agent and restart it.'));
      return;
    }
    if (!rows) {
      rows = h('tbody');
      replace(body, h('div', { class: 'card table-card' }, h('table', { class: 'table plugins-table' },
        h('thead', null, h('tr', null, ...['Plugin', 'Engine', 'State', 'Version', 'Engine health'].map(t => h('th', { scope: 'col' }, t)))),
        rows)));
    }
    sync(rows, list, p => p.name, () => h('tr', { testid: 'plugin-row' }), updateRow);
  }

  return { title: 'Plugins', refresh, wants: type => type === 'plugin' };
}

/** plugins/NAME, the folder, rather than the agent's whole install path and the dll (which the title keeps). */
function shortPath(path) {
  if (!path) return '';
  const normal = path.replace(/\\/g, '/');
  const at = normal.lastIndexOf('/plugins/');
  const shown = at >= 0 ? normal.slice(at + 1) : normal;
  return shown.replace(/\/[^/]+\.dll$/i, '');
}

function updateRow(row, p) {
  row.dataset.plugin = p.name;
  const active = p.state === 'Active';
  const healthy = active && p.engine_available;
  const health = !active ? 'not loaded' : p.engine_available ? 'engine available' : 'engine unavailable';
  replace(row,
    h('td', { 'data-label': 'Plugin' }, h('div', { class: 'strong' }, p.name), h('div', { class: 'path muted', title: p.path ?? '' }, shortPath(p.path))),
    h('td', { 'data-label': 'Engine' }, h('code', null, p.type ?? '–')),
    h('td', { 'data-label': 'State' },
      h('span', { class: `pill ${active ? 'ok' : 'bad'}`, testid: 'plugin-state' }, p.state),
      p.error ? h('div', { class: 'reason' }, p.error) : null),
    h('td', { 'data-label': 'Version', testid: 'plugin-version', class: 'mono' }, p.version ?? '–'),
    h('td', { 'data-label': 'Engine health' },
      h('span', { class: `pill ${healthy ? 'ok' : active ? 'warn' : 'off'}`, testid: 'plugin-health' }, health),
      p.engine_problem ? h('div', { class: 'reason' }, p.engine_problem) : null));
}
