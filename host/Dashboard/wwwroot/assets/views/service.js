// #/services/ID: one service, its images (state, node, instance, message), an image's logs, and delete.

import { call, get } from '../api.js';
import { h, replace, setState, stateBadge, sync } from '../dom.js';
import { plural, stateName } from '../format.js';
import { LogPanel } from '../logs.js';

export function mount(root, ctx, { id }) {
  const name = h('h1', null, id);
  const idText = h('span', { class: 'id', title: 'service id' }, id);
  const state = stateBadge('', 'service-state');
  const message = h('p', { class: 'state-message' });
  const remove = ctx.guard(h('button', { type: 'button', class: 'btn btn-danger', testid: 'service-delete', disabled: true }, 'Delete'));
  const rows = h('tbody');
  const logs = h('div', { class: 'log-slot' });
  const detail = h('section', { class: 'service-detail', testid: 'service-detail', dataset: { serviceId: id } },
    h('p', { class: 'crumbs' }, h('a', { href: '#/services' }, '← Services')),
    h('div', { class: 'page-head' },
      h('div', null, h('div', { class: 'title-row' }, name, state), idText),
      remove),
    message,
    h('div', { class: 'card table-card' },
      h('table', { class: 'table images-table' },
        h('caption', { class: 'sr-only' }, 'Images'),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Image'), h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col' }, 'Node'), h('th', { scope: 'col', class: 'col-instance' }, 'Instance'),
          h('th', { scope: 'col', class: 'num' }, 'Restarts'), h('th', { scope: 'col' }, 'Message'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Logs')))),
        rows)),
    logs);
  replace(root, detail);

  let service = null;
  let panel = null;

  function openLogs(index) {
    closeLogs();
    const image = service.images[index];
    panel = new LogPanel({ serviceId: id, index, imageName: image.name, onClose: () => closeLogs(true) });
    panel.opener = index;
    markOpen(index);
    replace(logs, panel.el);
    panel.start();
    panel.el.scrollIntoView({ block: 'nearest' });
    panel.follow.focus();
  }

  function closeLogs(returnFocus) {
    if (!panel) return;
    const index = panel.opener;
    panel.stop();
    panel = null;
    markOpen(null);
    replace(logs);
    if (returnFocus) rows.querySelector(`[data-image-index="${index}"] [data-testid="image-logs"]`)?.focus();
  }

  /** The row whose logs are shown is marked, and its button says so to assistive technology. */
  function markOpen(index) {
    for (const row of rows.children) {
      const open = index !== null && row.dataset.imageIndex === String(index);
      row.classList.toggle('selected', open);
      row.querySelector('[data-testid="image-logs"]')?.setAttribute('aria-pressed', String(open));
    }
  }

  remove.addEventListener('click', async () => {
    if (!service) return;
    const ended = stateName(service.state) === 'TERMINATED';
    const count = plural(service.images.length, 'image');
    const ok = await ctx.confirm({
      title: ended ? 'Remove service' : 'Delete service',
      message: ended
        ? `Remove service ${service.service_name} (${service.id})? It has ended; its ${count} and their state are forgotten.`
        : `Delete service ${service.service_name} (${service.id})? Its ${count} ${service.images.length === 1 ? 'is' : 'are'} stopped.`,
      ok: ended ? 'Remove' : 'Delete',
      danger: true,
    });
    if (!ok) return;
    try {
      const after = await call('DELETE', `/v1/service/${encodeURIComponent(id)}`);
      if (after === null) {
        ctx.toast(`Service ${service.service_name} had ended and is removed.`);
        ctx.navigate('#/services');
      } else ctx.toast(`Stopping service ${service.service_name}…`);
    } catch (error) {
      ctx.toast(`Could not delete ${service.service_name}: ${error.message}`, 'error');
    }
  });

  async function refresh() {
    try {
      service = await get(`/v1/service/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error.status === 401) return;
      service = null;
      remove.disabled = true;
      replace(rows);
      closeLogs();
      message.className = 'state-message error';
      message.textContent = error.status === 404 ? 'This service does not exist (any more).' : `Could not read the service: ${error.message}`;
      return;
    }
    name.textContent = service.service_name;
    document.title = `${service.service_name} · Motey`;
    detail.dataset.serviceName = service.service_name;
    setState(state, stateName(service.state));
    message.className = 'state-message';
    message.textContent = service.state_message || '';
    if (!ctx.readOnly()) remove.disabled = false;
    remove.textContent = stateName(service.state) === 'TERMINATED' ? 'Remove' : 'Delete';
    sync(rows, service.images.map((image, index) => ({ ...image, index })), image => image.index, createRow, updateRow);
  }

  function createRow(image) {
    const cells = {
      state: stateBadge('', 'image-state'),
      node: h('span', { testid: 'image-node' }),
      instance: h('span', { class: 'id' }),
      restarts: h('td', { class: 'num', 'data-label': 'Restarts' }),
      message: h('td', { class: 'message', testid: 'image-message', 'data-label': 'Message' }),
      logs: h('button', { type: 'button', class: 'btn btn-small', testid: 'image-logs', 'aria-pressed': 'false',
        onclick: () => (panel?.opener === image.index ? closeLogs(true) : openLogs(image.index)) }, 'Logs'),
      name: h('td', { 'data-label': 'Image' }),
    };
    const row = h('tr', { testid: 'image-row' },
      h('td', { class: 'num muted', 'data-label': '#' }, String(image.index)),
      cells.name,
      h('td', { 'data-label': 'State' }, cells.state),
      h('td', { 'data-label': 'Node' }, cells.node),
      h('td', { class: 'col-instance', 'data-label': 'Instance' }, cells.instance),
      cells.restarts, cells.message,
      h('td', { class: 'actions' }, cells.logs));
    row.cells_ = cells;
    return row;
  }

  function updateRow(row, image) {
    const c = row.cells_;
    row.dataset.imageIndex = image.index;
    row.dataset.imageName = image.name;
    const needs = image.capabilities?.length ? ` · needs ${image.capabilities.join(', ')}` : '';
    replace(c.name, h('span', { class: 'strong' }, image.name),
      h('div', { class: 'needs muted', title: 'engine, and the capabilities a node must offer to run it' }, image.engine, needs));
    setState(c.state, stateName(image.state));
    c.node.textContent = image.node ?? '';
    c.node.classList.toggle('muted', !image.node);
    if (!image.node) c.node.textContent = '—';
    c.instance.textContent = image.id || '—';
    c.restarts.textContent = String(image.restarts ?? 0);
    c.message.textContent = image.state_message || '';
    // Logs come from an instance: an image without one (not placed yet) has none to read.
    const hasInstance = Boolean(image.id && image.node);
    c.logs.disabled = !hasInstance;
    c.logs.title = hasInstance ? `Show the logs of ${image.name}` : 'No instance yet: nothing to read';
  }

  return {
    title: 'Service',
    refresh,
    wants: (type, data) => (type === 'service' || type === 'image') && data?.service_id === id,
    unmount: () => closeLogs(),
  };
}
