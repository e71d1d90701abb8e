// Wires the live feed to the catalog model and the views. Events update the model at
// once but reach the DOM once per animation frame, so a burst of a thousand events
// costs one layout, not a thousand.

import { authRequired, openSession, token } from './api.js';
import { Catalog } from './catalog.js';
import { copyWithFeedback } from './clipboard.js';
import { DetailsPanel } from './details.js';
import { LiveFeed } from './live.js';
import { StatsLine } from './stats.js';
import { ServiceTable } from './table.js';

const catalog = new Catalog();
const stats = new StatsLine(document.getElementById('stats'));
const announcer = document.getElementById('announcer');
const connection = document.getElementById('connection');
const filter = document.getElementById('filter');
const shown = document.getElementById('shown');
const empty = document.getElementById('empty');
const countValues = new Map(
  [...document.querySelectorAll('#counts [data-count]')].map((item) => [item.dataset.count, item.querySelector('.count-value')]),
);

/** Server time minus ours, from the greeting: countdowns follow the registry's clock, not a skewed laptop's. */
let clockOffset = 0;
const now = () => Date.now() + clockOffset;

const onCopy = (button, url) => copyWithFeedback(button, url, announcer);

const table = new ServiceTable(document.getElementById('rows'), {
  onOpen(id) {
    const service = catalog.services.get(id);
    if (!service) return;
    table.select(id);
    details.open(service, now());
  },
  onCopy,
  now,
});

const details = new DetailsPanel({
  onClose(id, hadFocus) {
    table.select(null);
    // Focus goes back where the panel was opened from, not to the top of the page.
    if (hadFocus) table.focusRow(id);
  },
  onCopy,
});

// ---- rendering, batched per frame ----

const dirty = new Set();
let frame = 0;

function schedule(id) {
  dirty.add(id);
  if (!frame) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  const at = now();
  for (const id of dirty) {
    const service = catalog.services.get(id);
    if (service) {
      table.upsert(service, at);
      details.update(service, at);
    } else {
      table.remove(id);
      details.removed(id);
    }
  }
  dirty.clear();
  renderSummary(table.tick(at));
}

/** Writes only real changes: this runs every second, and some targets are live regions. */
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function renderSummary(counts) {
  for (const [status, element] of countValues) setText(element, String(counts[status] ?? 0));
  const visible = table.countShown();
  setText(shown, filter.value.trim() ? `Showing ${visible} of ${table.size}` : '');
  empty.hidden = visible > 0;
  setText(empty, table.size === 0 ? 'No services registered yet.' : 'No service matches the filter.');
}

// ---- the feed ----

const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
};

function showState(state, detail = {}) {
  let text = STATE_TEXT[state] ?? 'Reconnecting…';
  if (state === 'reconnecting' && detail.delayMs > 0) text = `Disconnected: reconnecting in ${Math.ceil(detail.delayMs / 1000)}s…`;
  if (state !== 'live' && authRequired && !token) text += ' This gateway needs a token: open the page with ?token=<token>.';
  connection.dataset.state = state;
  setText(connection, text);
}

// The cookie carries the token when it can; only if it cannot does it go in the socket's URL.
const viaCookie = await openSession();

const feed = new LiveFeed({
  token: viaCookie ? '' : token,
  onState(state, detail) {
    if (state === 'live' && detail?.greeting?.timestamp) {
      const server = Date.parse(detail.greeting.timestamp);
      if (Number.isFinite(server)) clockOffset = server - Date.now();
    }
    showState(state, detail);
  },
  onSnapshot(message) {
    const services = Array.isArray(message.data?.services) ? message.data.services : [];
    catalog.replaceAll(services);
    const at = now();
    // Pending per-row work is covered by the full rebuild.
    dirty.clear();
    table.replaceAll([...catalog.services.values()], at);
    if (details.openId) {
      const open = catalog.services.get(details.openId);
      if (open) details.update(open, at);
      else details.removed(details.openId);
    }
    renderSummary(table.tick(at));
  },
  onEvent(message) {
    const change = catalog.apply(message);
    if (change) schedule(change.changed ?? change.removed);
    stats.nudge();
  },
});

// ---- controls ----

filter.addEventListener('input', () => {
  table.setFilter(filter.value);
  renderSummary(table.tick(now()));
});

// "/" jumps to the filter, as on many catalog pages; not while typing somewhere.
document.addEventListener('keydown', (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
  if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    filter.focus();
  }
});

// Countdowns, "ago" texts, and statuses that expire on the clock.
setInterval(() => {
  const at = now();
  renderSummary(table.tick(at));
  details.tick(at);
}, 1000);

showState('connecting');
renderSummary(table.tick(now()));
feed.start();
stats.start();
