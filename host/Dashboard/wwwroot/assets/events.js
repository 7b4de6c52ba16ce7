// The node's events (/v1/events) read with fetch and a ReadableStream rather than EventSource, because EventSource
// cannot send the Authorization header. Reconnects with backoff from the last event id it saw (Last-Event-ID).

import { headers } from './api.js';

/** No byte from the stream for this long (two keepalives missed): the connection is taken as dead and made again. */
const SILENCE_MS = 35000;

export class EventStream {
  /**
   * onEvent(type, data, id): one event; onOpen(): connected (again), read everything since nothing may have been missed
   * silently before; onStatus('live' | 'reconnecting'); onError(error): an answer that is not a stream (401, ...).
   */
  constructor({ onEvent, onOpen, onStatus, onError }) {
    Object.assign(this, { onEvent, onOpen, onStatus, onError });
    this.lastId = null;
    this.delay = 1000;
    this.stopped = true;
    this.generation = 0;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.delay = 1000;
    this.loop(++this.generation);
  }

  stop() {
    this.stopped = true;
    this.generation++;
    this.controller?.abort();
    clearTimeout(this.timer);
    this.wake?.();
  }

  /** One loop per start(); a loop whose generation is past (stopped, maybe started again) ends. */
  async loop(generation) {
    const current = () => generation === this.generation && !this.stopped;
    while (current()) {
      this.controller = new AbortController();
      try {
        await this.connect(this.controller.signal);
      } catch (error) {
        if (!current()) return;
        if (error.name !== 'AbortError') this.onError?.(error);
      }
      if (!current()) return;
      this.onStatus('reconnecting');
      await new Promise(resolve => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.delay);
      });
      this.delay = Math.min(this.delay * 2, 10000);
    }
  }

  async connect(signal) {
    const h = headers({ Accept: 'text/event-stream' });
    if (this.lastId !== null) h['Last-Event-ID'] = this.lastId;
    const response = await fetch('/v1/events', { headers: h, signal, cache: 'no-store' });
    if (!response.ok) {
      const error = new Error(`the events stream answered ${response.status}`);
      error.status = response.status;
      await response.body?.cancel();
      throw error;
    }
    this.delay = 1000;
    if (signal.aborted) return;
    this.onStatus('live');
    this.onOpen();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    this.buffer = '';
    this.event = { type: 'message', data: [], id: null };
    // The node writes at least a keepalive comment every 15 s. A node that lost power or its network sends nothing,
    // and TCP may take minutes to say so: without a watchdog the header would say live over stale states.
    let watchdog = setTimeout(() => this.controller?.abort(), SILENCE_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => this.controller?.abort(), SILENCE_MS);
        this.parse(value);
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  /**
   * Feeds one chunk: complete lines are parsed into this.event, a partial line waits in this.buffer for the next chunk.
   */
  parse(value) {
    this.buffer += value;
    let end;
    // SSE: lines end with \n, \r\n or \r; a blank line ends an event; a line starting with ':' is a comment.
    while ((end = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      if (this.buffer[end] === '\r' && end === this.buffer.length - 1) break;  // a \r at the end may be half of \r\n
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith('\r\n', end) ? 2 : 1));
      const event = this.event;
      if (line === '') {
        if (event.data.length) this.dispatch(event);
        this.event = { type: 'message', data: [], id: null };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let text = colon < 0 ? '' : line.slice(colon + 1);
      if (text.startsWith(' ')) text = text.slice(1);
      if (field === 'event') event.type = text;
      else if (field === 'data') event.data.push(text);
      else if (field === 'id') event.id = text;
    }
  }

  dispatch(event) {
    if (event.id !== null) this.lastId = event.id;
    // After a reset the old id means nothing: the page reads everything again and follows what comes next.
    if (event.type === 'reset') this.lastId = null;
    let data = null;
    try {
      data = JSON.parse(event.data.join('\n'));
    } catch {
      data = event.data.join('\n');
    }
    this.onEvent(event.type, data, event.id);
  }
}
