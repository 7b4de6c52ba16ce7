// Numbers and times as an operator reads them: GiB, one-decimal percentages, "12 s ago" with the exact time as a title.

export const STATES = ['INITIAL', 'INSTANTIATING', 'RUNNING', 'STOPPING', 'TERMINATED', 'ERROR'];

/** The API gives states as numbers (REST) or names (events); the page shows names. */
export function stateName(state) {
  return typeof state === 'string' ? state : (STATES[state] ?? `STATE ${state}`);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n) {
  if (typeof n !== 'number' || !isFinite(n)) return '–';
  let i = 0;
  while (Math.abs(n) >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${UNITS[i]}`;
}

export function percent(p) {
  return typeof p === 'number' && isFinite(p) ? `${p.toFixed(1)} %` : '–';
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago" (and "in 3 s" for a clock ahead of ours). */
export function relative(time, now = Date.now()) {
  const t = time instanceof Date ? time.getTime() : Date.parse(time);
  if (!isFinite(t)) return '–';
  const s = Math.round((now - t) / 1000);
  const a = Math.abs(s);
  let text;
  if (a < 2) return 'just now';
  if (a < 60) text = `${a} s`;
  else if (a < 3600) text = `${Math.floor(a / 60)} min`;
  else if (a < 86400) text = `${Math.floor(a / 3600)} h`;
  else text = `${Math.floor(a / 86400)} d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

/** The full local date and time, for titles. */
export function absolute(time) {
  const d = time instanceof Date ? time : new Date(time);
  return isNaN(d) ? '' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** HH:MM:SS local, for log lines. */
export function clock(time) {
  const d = new Date(time);
  return isNaN(d) ? '' : d.toLocaleTimeString(undefined, { hour12: false });
}

export function plural(n, one, many = one + 's') {
  return `${n} ${n === 1 ? one : many}`;
}
