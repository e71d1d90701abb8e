// The WebSocket feed (docs/realtime.md): a snapshot first, then events; on a drop it
// reconnects with back-off and resumes after the last `seq` it saw, falling back to a
// fresh snapshot when the gateway answers `resync_required`.

// Every event type, renewals included so the countdowns move: written by the gateway
// from the list in libs/contracts, so the page never asks for a type it does not know.
import { EVENT_TYPES } from './event-types.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;

export class LiveFeed {
  #socket = null;
  #lastSeq = null;
  #needSnapshot = true;
  #attempt = 0;
  #retryTimer = 0;

  /**
   * @param {object} options
   * @param {string} [options.token] passed on as `?token=` when no session cookie carries it (browsers cannot set headers on a WebSocket)
   * @param {(message: object) => void} options.onSnapshot
   * @param {(message: object) => void} options.onEvent
   * @param {(state: 'connecting'|'live'|'reconnecting', detail?: object) => void} options.onState
   */
  constructor(options) {
    this.options = options;
    // Back online: don't sit out the rest of a long back-off.
    window.addEventListener('online', () => this.#retryNow());
  }

  start() {
    this.#connect();
  }

  #url() {
    const params = new URLSearchParams({ events: EVENT_TYPES.join(',') });
    if (this.#needSnapshot || this.#lastSeq === null) params.set('snapshot', 'true');
    else params.set('since', String(this.#lastSeq));
    if (this.options.token) params.set('token', this.options.token);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/api/v1/ws?${params}`;
  }

  #connect() {
    clearTimeout(this.#retryTimer);
    const resuming = !(this.#needSnapshot || this.#lastSeq === null);
    const socket = new WebSocket(this.#url());
    this.#socket = socket;
    this.options.onState(this.#attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.#attempt });

    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        console.warn('beacon: ignoring a message that is not JSON');
        return;
      }
      if (message.type === 'connection_established') {
        this.#attempt = 0;
        // On a snapshot connection the greeting's seq is where the snapshot stands; on a
        // resume it is the stream's head, *ahead* of the replay still to come.
        if (!resuming && typeof message.seq === 'number') this.#lastSeq = message.seq;
        this.options.onState('live', { resumedFrom: resuming ? this.#lastSeq : null, greeting: message });
      } else {
        this.#handle(message, socket);
      }
    });

    socket.addEventListener('close', (event) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      // Keep resuming however often the connection fails: a refused connection says nothing
      // about our position, and the gateway answers resync_required when it cannot replay.
      this.#scheduleRetry(event.code);
    });
    // An error is always followed by close, which does the work.
  }

  #handle(message, socket) {
    switch (message.type) {
      case 'snapshot':
        this.#needSnapshot = false;
        if (typeof message.seq === 'number') this.#lastSeq = message.seq;
        this.options.onSnapshot(message);
        break;
      case 'resync_required':
        // The stream no longer holds what we missed: start over from a snapshot, now.
        // Detached first, so nothing more from this socket is applied and its close is not a drop.
        this.#needSnapshot = true;
        this.#socket = null;
        socket.close(1000, 'resync');
        this.#connect();
        break;
      case 'error':
        console.warn('beacon: the gateway refused a message:', message.data?.message ?? message.message);
        break;
      case 'subscribed':
      case 'pong':
        break;
      default:
        if (typeof message.seq === 'number' && (this.#lastSeq === null || message.seq > this.#lastSeq)) {
          this.#lastSeq = message.seq;
        }
        this.options.onEvent(message);
    }
  }

  #scheduleRetry(code) {
    // Exponential back-off with jitter, so a restarted gateway is not hit by every tab at once.
    const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#attempt);
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    this.#attempt += 1;
    this.options.onState('reconnecting', { attempt: this.#attempt, delayMs: delay, code });
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #retryNow() {
    if (!this.#socket) this.#connect();
  }
}
