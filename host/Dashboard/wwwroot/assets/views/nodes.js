// #/nodes: the cluster's nodes as this node knows them, with cpu, memory and disk, and when each was last heard of.

import { ApiError, get } from '../api.js';
import { empty, h, replace, sync } from '../dom.js';
import { absolute, bytes, percent, relative, stateName } from '../format.js';

const POLL_MS = 5000;  // status is sampled, not an event: read it again while the view is open
// Status requests out at once: each asks its node over ZeroMQ through this agent, and a fog of a thousand nodes must
// not become a thousand requests every poll. The others wait their turn (a node is never queued twice).
const MAX_ASKING = 8;

/**
 * The own node's status comes from /v1/nodestatus (always there); a peer's from /v1/nodes/{ip}/status, which an
 * agent without that route answers 404/405 and an original-Motey peer 501: all "status unavailable".
 */
let routeMissing = false;  // this agent has no /v1/nodes/{ip}/status: asking again would only log the same 404

/** A short text for the table and the node's whole answer for the title. */
const unavailable = (text, detail = '') => ({ error: text, detail });

async function statusOf(node) {
  if (node.self) return { status: await get('/v1/nodestatus') };
  if (routeMissing) return unavailable('status unavailable', 'this agent cannot ask other nodes for their status');
  try {
    return { status: await get(`/v1/nodes/${encodeURIComponent(node.ip)}/status`) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const detail = error.message;
    // A 404 without a problem's detail is the route missing (an older agent), not an unknown node.
    if ((error.status === 404 && !error.problem?.detail) || error.status === 405) {
      routeMissing = true;
      return unavailable('status unavailable', 'this agent cannot ask other nodes for their status');
    }
    if (error.status === 501) return unavailable('status unavailable (an original Motey or an older agent)', detail);
    if (error.status === 504) return unavailable('no answer in time', detail);
    if (error.status === 502) return unavailable('status could not be read', detail);
    return unavailable(detail, detail);
  }
}

/** The images that live on each node (placed and not ended), as "service/image", from this node's services. */
async function imagesByNode() {
  const map = new Map();
  try {
    for (const s of await get('/v1/service')) {
      for (const image of s.images) {
        if (!image.node || ['TERMINATED', 'ERROR'].includes(stateName(image.state))) continue;
        if (!map.has(image.node)) map.set(image.node, []);
        map.get(image.node).push(`${s.service_name}/${image.name}`);
      }
    }
  } catch {
    // the column stays empty; the services view says what went wrong
  }
  return map;
}

export function mount(root) {
  const body = h('div');
  const summary = h('p', { class: 'muted summary' });
  replace(root, h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Nodes'), summary)), body);
  let rows = null;
  let timer = null;
  let alive = true;
  let nodes = [];
  // Each node's last status answer, shown until the next one: the table never waits for its slowest node (a dead
  // peer holds its answer for the whole request timeout), and a node is never asked twice at once.
  const statuses = new Map();
  const asking = new Set();
  const queued = new Map();  // ip -> node, in the order they were asked for

  function draw() {
    if (!alive || !rows) return;
    sync(rows, nodes.map(n => ({ ...n, ...(statuses.get(n.ip) ?? { reading: true }) })), n => n.ip, createRow, updateRow);
  }

  function askStatus(node) {
    if (asking.has(node.ip)) return;
    if (asking.size >= MAX_ASKING) {
      queued.set(node.ip, node);
      return;
    }
    queued.delete(node.ip);
    asking.add(node.ip);
    statusOf(node)
      .catch(error => unavailable('status unavailable', error.message))
      .then(answer => {
        asking.delete(node.ip);
        if (alive && nodes.some(n => n.ip === node.ip)) {
          statuses.set(node.ip, answer);
          draw();
        }
        const next = queued.values().next();
        if (alive && !next.done) askStatus(next.value);
      });
  }

  async function refresh() {
    clearTimeout(timer);
    let list;
    let placed;
    try {
      [list, placed] = await Promise.all([get('/v1/nodes'), imagesByNode()]);
    } catch (error) {
      if (error.status !== 401) replace(body, h('div', { class: 'card error-card', role: 'alert' }, `Could not read the nodes: ${error.message}`));
      rows = null;
      return;
    }
    if (!alive) return;
    nodes = list.map(n => ({ ...n, images: placed.get(n.ip) ?? [] }));
    for (const ip of [...statuses.keys()]) if (!list.some(n => n.ip === ip)) statuses.delete(ip);
    for (const ip of [...queued.keys()]) if (!list.some(n => n.ip === ip)) queued.delete(ip);
    summary.textContent = nodes.length === 1 ? 'this node only' : `${nodes.length} nodes`;
    if (!rows) {
      rows = h('tbody');
      replace(body,
        h('div', { class: 'card table-card' }, h('table', { class: 'table nodes-table' },
          h('thead', null, h('tr', null, ...['Node', 'Images', 'CPU', 'Memory', 'Disk', 'Last contact'].map(t => h('th', { scope: 'col' }, t)))),
          rows)),
        h('div', { class: 'empty-slot' }));
    }
    draw();
    const slot = body.querySelector('.empty-slot');
    if (nodes.filter(n => !n.self).length === 0) {
      if (!slot.childElementCount) replace(slot, empty('empty-nodes', 'No other nodes — start another agent on the same broker.',
        'An agent with [MQTT] broker = external and ip = this node\'s broker address joins this cluster and appears here.'));
    } else replace(slot);
    for (const node of list) askStatus(node);
    timer = setTimeout(refresh, POLL_MS);
  }

  return {
    title: 'Nodes',
    refresh,
    wants: type => type === 'node' || type === 'image',
    unmount: () => { alive = false; clearTimeout(timer); },
  };
}

function meter(value, label, testid) {
  const p = Math.max(0, Math.min(100, Number(value) || 0));
  const bar = h('span', { class: 'meter-fill' });
  bar.style.width = `${p}%`;
  bar.classList.toggle('high', p >= 85);
  return h('div', { class: 'metric', testid },
    h('span', { class: 'meter', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': p.toFixed(1), 'aria-label': testid.replace('node-', '') }, bar),
    h('span', { class: 'metric-text' }, label));
}

function createRow() {
  return h('tr', { testid: 'node-row' });
}

function updateRow(row, node) {
  row.dataset.nodeIp = node.ip;
  const address = h('td', { 'data-label': 'Node' }, h('span', { class: 'mono' }, node.ip),
    node.self ? h('span', { class: 'badge', testid: 'node-self' }, 'this node') : null);
  const images = h('td', { 'data-label': 'Images', class: 'num-left' },
    h('span', { class: 'count', title: node.images.join('\n') || 'no image of this node\'s services runs there' }, String(node.images.length)));
  let metrics;
  if (node.status) {
    const s = node.status;
    metrics = [
      h('td', { 'data-label': 'CPU' }, meter(s.cpu, percent(s.cpu), 'node-cpu')),
      h('td', { 'data-label': 'Memory' }, meter(s.memory?.percent,
        `${percent(s.memory?.percent)} · ${bytes(s.memory?.used)} of ${bytes(s.memory?.total)}`, 'node-memory')),
      h('td', { 'data-label': 'Disk' }, meter(s.disk?.percent,
        `${percent(s.disk?.percent)} · ${bytes(s.disk?.used)} of ${bytes(s.disk?.total)}`, 'node-disk')),
    ];
  } else if (node.reading) {
    metrics = [h('td', { colSpan: 3, 'data-label': 'Status' }, h('span', { class: 'muted', testid: 'node-status-reading' }, 'reading…'))];
  } else {
    metrics = [h('td', { colSpan: 3, 'data-label': 'Status' }, h('span', { class: 'status-error', testid: 'node-status-error', title: node.detail || node.error }, node.error),
      node.detail && node.detail !== node.error ? h('div', { class: 'muted small status-detail' }, node.detail) : null)];
  }
  const seen = h('td', { 'data-label': 'Last contact' },
    node.self ? h('span', { class: 'muted', testid: 'node-last-seen', title: `this node; last recorded ${absolute(node.last_seen)}` }, 'now')
      : h('span', { class: 'rel-time', testid: 'node-last-seen', dataset: { time: node.last_seen }, title: absolute(node.last_seen) }, relative(node.last_seen)));
  replace(row, address, images, metrics, seen);
}
