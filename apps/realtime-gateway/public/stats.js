// The registry's statistics line (GET /api/v1/stats, seed 003's registry stats): catalog
// revision, checks and events in the last minute, and the catalog by health and by type.
// Polled, since these numbers move with every check, not only with catalog events, and
// fetched again soon after a catalog change so the line keeps up with the table; paused
// while the tab is hidden.

import { getJson } from './api.js';

const POLL_MS = 5000;
/** After a catalog change, the line is fetched again this soon (once, however many changes). */
const NUDGE_MS = 1000;
const TOP_TYPES = 6;

const number = new Intl.NumberFormat();

/** "3 healthy, 1 unhealthy": zero counts left out, so the line stays short. */
function tally(counts, limit = Infinity) {
  const entries = Object.entries(counts ?? {})
    .filter(([, count]) => Number(count) > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = entries.slice(0, limit).map(([key, count]) => `${number.format(count)} ${key}`);
  if (entries.length > limit) shown.push(`${entries.length - limit} more`);
  return shown.length > 0 ? shown.join(', ') : 'none';
}

/** The line's text for one stats document. Pure, so it is easy to check. */
export function statsText(stats) {
  const parts = [
    `Revision ${number.format(stats.revision)}`,
    `${number.format(stats.checks_last_minute)} checks and ${number.format(stats.events_last_minute)} events in the last minute`,
    `health: ${tally(stats.services?.by_health)}`,
    `types: ${tally(stats.services?.by_type, TOP_TYPES)}`,
  ];
  return parts.join(' · ');
}

export class StatsLine {
  #running = false;
  #timer = 0;
  #abort = null;
  /** A change arrived since the last fetch began: fetch again soon, not at the next poll. */
  #nudged = false;

  constructor(element) {
    this.element = element;
    document.addEventListener('visibilitychange', () => (document.hidden ? this.stop() : this.start()));
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  stop() {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  /** A catalog change: fetch again in a second instead of at the next poll. */
  nudge() {
    if (!this.#running || this.#nudged) return;
    this.#nudged = true;
    this.#schedule(NUDGE_MS);
  }

  /** The one pending fetch: scheduling replaces it, so there is never more than one loop. */
  #schedule(ms) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#tick, ms);
  }

  #tick = async () => {
    this.#nudged = false;
    await this.#load();
    if (this.#running) this.#schedule(this.#nudged ? NUDGE_MS : POLL_MS);
  };

  async #load() {
    this.#abort = new AbortController();
    try {
      const stats = await getJson('/stats', { signal: this.#abort.signal });
      this.element.dataset.state = 'ok';
      this.#set(statsText(stats));
    } catch (error) {
      if (error.name === 'AbortError') return;
      this.element.dataset.state = 'error';
      this.#set(`Statistics unavailable (${error.message}); retrying every ${POLL_MS / 1000}s.`);
    }
  }

  #set(text) {
    if (this.element.textContent !== text) this.element.textContent = text;
  }
}
