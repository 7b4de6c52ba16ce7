// #/services: every service of this node, its images, the node each runs on, states and messages; live.

import { get } from '../api.js';
import { empty, h, replace, setState, stateBadge, sync } from '../dom.js';
import { plural, stateName } from '../format.js';

export function mount(root, ctx) {
  const summary = h('p', { class: 'muted summary' });
  const body = h('div', { class: 'services' });
  const filter = h('input', { type: 'search', id: 'service-filter', class: 'filter', placeholder: 'Filter: service, image, node, state',
    autocomplete: 'off', spellcheck: false, 'aria-label': 'Filter services by name, id, image, node or state' });
  const filterRow = h('div', { class: 'filter-row', hidden: true }, filter, h('span', { class: 'muted small filter-count', 'aria-live': 'polite' }));
  replace(root,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, 'Services'), summary),
      h('a', { class: 'btn btn-primary', href: '#/deploy' }, 'Deploy a blueprint')),
    filterRow,
    body);

  let table = null;
  let rows = null;
  let last = [];

  /** What a service is found by: its name, id, state, and its images' names, nodes and states. */
  const haystack = s => [s.service_name, s.id, stateName(s.state),
    ...s.images.flatMap(i => [i.name, i.node ?? '', stateName(i.state)])].join(' ').toLowerCase();

  function render() {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const shown = words.length ? last.filter(s => words.every(w => haystack(s).includes(w))) : last;
    filterRow.querySelector('.filter-count').textContent = words.length ? `${shown.length} of ${last.length}` : '';
    if (!table) {
      rows = h('tbody');
      table = h('table', { class: 'table services-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Service'), h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col' }, 'Images'), h('th', { scope: 'col' }, 'Message'))),
        rows);
      replace(body, h('div', { class: 'card table-card' }, table), h('p', { class: 'muted no-match', hidden: true }));
    }
    sync(rows, shown, s => s.id, createRow, updateRow);
    const none = body.querySelector('.no-match');
    none.hidden = shown.length > 0;
    none.textContent = shown.length ? '' : `No service matches "${filter.value.trim()}".`;
  }

  filter.addEventListener('input', () => { if (last.length) render(); });

  async function refresh() {
    let list;
    try {
      list = await get('/v1/service');
    } catch (error) {
      if (error.status !== 401) replace(body, h('div', { class: 'card error-card', role: 'alert' }, `Could not read the services: ${error.message}`));
      table = null;
      return;
    }
    // Live services first (what an operator watches), ended ones below; by name within each.
    const ended = s => (stateName(s.state) === 'TERMINATED' ? 1 : 0);
    list.sort((a, b) => ended(a) - ended(b) || a.service_name.localeCompare(b.service_name) || a.id.localeCompare(b.id));
    const counts = {};
    for (const s of list) counts[stateName(s.state)] = (counts[stateName(s.state)] ?? 0) + 1;
    summary.textContent = list.length
      ? [plural(list.length, 'service'), ...Object.entries(counts).map(([state, n]) => `${n} ${state.toLowerCase()}`)].join(' · ')
      : '';
    last = list;
    filterRow.hidden = list.length === 0;
    if (!list.length) {
      table = null;
      replace(body, empty('empty-services', 'No services yet — deploy a blueprint.',
        'A blueprint names the images to run and the capabilities they need; ',
        h('a', { href: '#/deploy' }, 'open the editor'), ' to post one.'));
      return;
    }
    render();
  }

  return {
    title: 'Services',
    refresh,
    wants: type => type === 'service' || type === 'image',
  };
}

function createRow() {
  const link = h('a', { class: 'service-name', testid: 'service-open' });
  const id = h('span', { class: 'id' });
  const state = stateBadge('', 'service-state');
  const images = h('ul', { class: 'image-list' });
  const message = h('td', { class: 'message', 'data-label': 'Message' });
  const row = h('tr', { testid: 'service-row' },
    h('td', { 'data-label': 'Service' }, link, id),
    h('td', { 'data-label': 'State' }, state),
    h('td', { 'data-label': 'Images' }, images),
    message);
  row.parts = { link, id, state, images, message };
  return row;
}

function updateRow(row, s) {
  const { link, id, state, images, message } = row.parts;
  row.dataset.serviceId = s.id;
  row.dataset.serviceName = s.service_name;
  link.textContent = s.service_name;
  link.href = `#/services/${encodeURIComponent(s.id)}`;
  id.textContent = s.id.slice(0, 8);
  id.title = s.id;
  setState(state, stateName(s.state));
  replace(images, s.images.map(image => h('li', null,
    h('span', { class: 'image-name' }, image.name),
    h('span', { class: `dot state-${stateName(image.state).toLowerCase()}`, title: stateName(image.state) }),
    h('span', { class: 'sr-only' }, stateName(image.state)),
    h('span', { class: 'image-where' }, image.node ? `on ${image.node}` : 'not placed'))));
  message.textContent = s.state_message || '';
  message.title = s.state_message || '';
}
