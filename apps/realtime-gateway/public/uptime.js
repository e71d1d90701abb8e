// Every row's uptime bar and latency line come from one request (GET
// /api/v1/uptime?windows=90), polled once a minute (windows are 5 minutes long) and paused
// while the tab is hidden. A missing route (404) or a registry-api without data (503)
// leaves the rows' bars empty; the page goes on.

import { failure, getJson } from './api.js';

const POLL_MS = 60_000;
export const WINDOWS = 90;

/** A refresh asked for (a service registered) waits this long, so a burst costs one request. */
const REFRESH_DELAY_MS = 2000;

export class UptimePoller {
  #timer = 0;
  #running = false;
  /** A refresh is already scheduled within REFRESH_DELAY_MS. */
  #soon = false;
  #inFlight = false;

  /** @param {(bars: Map<string, object>, windowSeconds: number) => void} onBars */
  constructor(onBars) {
    this.onBars = onBars;
    document.addEventListener('visibilitychange', () => (document.hidden ? this.stop() : this.start()));
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  stop() {
    this.#running = false;
    this.#soon = false;
    clearTimeout(this.#timer);
  }

  /** Fetch soon (a service registered), not at the next minute; many calls, one request. */
  refresh() {
    if (!this.#running || this.#soon) return;
    this.#soon = true;
    this.#schedule(REFRESH_DELAY_MS);
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#poll(), delay);
  }

  async #poll() {
    // One request at a time: a slow answer is not joined by another; try again after it.
    if (this.#inFlight) {
      this.#schedule(REFRESH_DELAY_MS);
      return;
    }
    this.#inFlight = true;
    this.#soon = false;
    try {
      const body = await getJson(`/uptime?windows=${WINDOWS}`);
      const services = Array.isArray(body?.services) ? body.services : [];
      const windowSeconds = Number.isFinite(body?.window_seconds) && body.window_seconds > 0 ? body.window_seconds : 300;
      this.onBars(
        new Map(services.filter((bar) => typeof bar?.service_id === 'string').map((bar) => [bar.service_id, bar])),
        windowSeconds,
      );
    } catch (error) {
      // Bars stay empty; the rows say "—". Logged once per poll for whoever looks.
      console.info(`beacon: no uptime bars (${failure(error)})`);
      this.onBars(new Map(), 300);
    } finally {
      this.#inFlight = false;
    }
    if (this.#running && !this.#soon) this.#schedule(POLL_MS);
  }
}
