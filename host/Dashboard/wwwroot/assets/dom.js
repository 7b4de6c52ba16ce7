// A tiny element helper: every page element is built here with textContent, never innerHTML, so a service name,
// a state message or a log line that looks like HTML stays text (the CSP forbids inline script as a second wall).

/**
 * h('button', { class: 'btn', testid: 'service-delete', onclick: fn }, 'Delete')
 * Props: class, testid (data-testid), dataset {..}, on<event> functions, text; keys with a dash (aria-*, data-*) and
 * keys the element has no property for become attributes; everything else is set as a property (value, disabled, ...);
 * undefined and null are skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      // false turns a property off (spellcheck, disabled, hidden); an attribute is then simply left out.
      if (value === false) {
        if (key in el && !key.includes('-')) el[key] = false;
        continue;
      }
      if (key === 'class') el.className = value;
      else if (key === 'testid') el.dataset.testid = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key.includes('-') || key === 'role' || key === 'for' || !(key in el)) el.setAttribute(key, value === true ? '' : value);
      else el[key] = value;
    }
  }
  append(el, children);
  return el;
}

/** Appends strings (as text), nodes and (nested) arrays; skips null, undefined and false. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of parent. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/**
 * Keeps parent's children in step with items by key: an existing element is updated in place (so focus, a half-typed
 * value or a scroll position inside it survive a live refresh), a new one created, a gone one removed.
 */
export function sync(parent, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of parent.children) existing.set(child.dataset.key, child);
  items.forEach((item, i) => {
    const key = String(keyOf(item));
    let el = existing.get(key);
    if (el) existing.delete(key);
    else {
      el = create(item);
      el.dataset.key = key;
    }
    update(el, item);
    if (parent.children[i] !== el) parent.insertBefore(el, parent.children[i] ?? null);
  });
  for (const gone of existing.values()) gone.remove();
}

/** A state badge: the API's state name, coloured by a class of the same name. */
export function stateBadge(name, testid) {
  return h('span', { class: `state state-${(name || 'unknown').toLowerCase()}`, testid }, name || 'UNKNOWN');
}

/** Sets a badge made by stateBadge to another state. */
export function setState(badge, name) {
  badge.textContent = name || 'UNKNOWN';
  badge.className = `state state-${(name || 'unknown').toLowerCase()}`;
}

/** A centred note for an empty list: what is missing and what to do about it. */
export function empty(testid, title, ...hint) {
  return h('div', { class: 'empty', testid }, h('p', { class: 'empty-title' }, title), hint.length ? h('p', { class: 'empty-hint' }, ...hint) : null);
}
