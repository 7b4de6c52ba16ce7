// Page-wide pieces every view uses: status messages (an aria-live region) and the confirmation dialog.

import { h } from './dom.js';

const toasts = () => document.getElementById('toasts');

/** Shows a status message for a while; kind 'error' stays longer and is announced assertively. */
export function toast(message, kind = 'info') {
  const close = h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss', onclick: () => el.remove() });
  const el = h('div', { class: `toast ${kind}`, testid: 'toast', role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-text' }, message), close);
  toasts().append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 9000 : 5000);
  return el;
}

/** Asks in the page's <dialog>; resolves true on OK, false on cancel or Escape. */
export function confirm({ title, message, ok = 'OK', danger = false }) {
  const dialog = document.getElementById('confirm');
  dialog.querySelector('.dialog-title').textContent = title;
  dialog.querySelector('.dialog-message').textContent = message;
  const okButton = dialog.querySelector('[data-testid="confirm-ok"]');
  okButton.textContent = ok;
  okButton.classList.toggle('danger', danger);
  dialog.returnValue = '';
  dialog.showModal();
  // The safe choice has the focus: Enter does not delete by accident.
  dialog.querySelector('[data-testid="confirm-cancel"]').focus();
  return new Promise(resolve => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}
