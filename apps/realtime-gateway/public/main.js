// Wires the live feed to the catalog model and the views. Events update the model at
// once but reach the DOM once per animation frame, so a burst of a thousand events
// costs one layout, not a thousand.

import { authRequired, openSession, token } from './api.js';
import { Catalog } from './catalog.js';
import { copyWithFeedback } from './clipboard.js';
import { DetailsPanel } from './details.js';
import { IncidentsPanel } from './incidents.js';
import { LiveFeed } from './live.js';
import { SORT_KEYS } from './order.js';
import { StatsLine } from './stats.js';
import { ServiceTable } from './table.js';
import { UptimePoller } from './uptime.js';

const catalog = new Catalog();
const stats = new StatsLine(document.getElementById('stats'));
const announcer = document.getElementById('announcer');
const connection = document.getElementById('connection');
const filter = document.getElementById('filter');
const shown = document.getElementById('shown');
const empty = document.getElementById('empty');
const pills = [...document.querySelectorAll('#counts button[data-count]')];
const countValues = new Map(pills.map((pill) => [pill.dataset.count, pill.querySelector('.count-value')]));
const sortSelect = document.getElementById('sort');
const groupSelect = document.getElementById('group');
const sortHeaders = [...document.querySelectorAll('#catalog thead th[data-sort]')];

/** Server time minus ours, from the greeting: countdowns follow the registry's clock, not a skewed laptop's. */
let clockOffset = 0;
const now = () => Date.now() + clockOffset;

const onCopy = (button, url) => copyWithFeedback(button, url, announcer);

const table = new ServiceTable(document.getElementById('rows'), {
  onOpen(id) {
    showService(id);
  },
  onCopy,
  now,
});

const details = new DetailsPanel({
  onClose(id, hadFocus) {
    table.select(null);
    if (serviceInUrl() === id) history.replaceState(history.state, '', `${location.pathname}${location.search}`);
    // Focus goes back where the panel was opened from, not to the top of the page.
    if (hadFocus) table.focusRow(id);
  },
  onCopy,
});

const incidents = new IncidentsPanel({
  now,
  onChange(ids) {
    table.setIncidents(ids);
  },
  onShowService(id) {
    showService(id);
  },
});

const uptime = new UptimePoller((bars, windowSeconds) => table.setUptime(bars, windowSeconds));

// ---- each service's own URL: #/services/<id> opens its details, after a reload too ----

function serviceInUrl() {
  const match = /^#\/services\/([^/]+)$/.exec(location.hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

function showService(id) {
  const service = catalog.services.get(id);
  if (!service) return false;
  const hash = `#/services/${encodeURIComponent(id)}`;
  if (location.hash !== hash) history.pushState(history.state, '', hash);
  table.select(id);
  details.open(service, now());
  return true;
}

/** Opens what the address names, once the snapshot has the service. */
function followUrl() {
  const id = serviceInUrl();
  if (id && id !== details.openId) showService(id);
  else if (!id && details.openId) details.close();
}

window.addEventListener('popstate', followUrl);
window.addEventListener('hashchange', followUrl);

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
  setText(shown, filter.value.trim() || chosenStatuses.size > 0 ? `Showing ${visible} of ${table.size}` : '');
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
    followUrl();
  },
  onEvent(message) {
    if (message.type?.startsWith('incident_')) {
      incidents.apply(message);
      return;
    }
    const change = catalog.apply(message);
    if (change) schedule(change.changed ?? change.removed);
    if (message.type === 'service_registered') uptime.refresh();
    stats.nudge();
  },
});

// ---- controls ----

// The pills filter by status: each toggles; "total" shows every status again.
const chosenStatuses = new Set();

function renderPills() {
  for (const pill of pills) {
    const pressed = pill.dataset.count === 'total' ? chosenStatuses.size === 0 : chosenStatuses.has(pill.dataset.count);
    pill.setAttribute('aria-pressed', String(pressed));
  }
}

for (const pill of pills) {
  pill.addEventListener('click', () => {
    const status = pill.dataset.count;
    if (status === 'total') chosenStatuses.clear();
    else if (chosenStatuses.has(status)) chosenStatuses.delete(status);
    else chosenStatuses.add(status);
    renderPills();
    table.setStatuses(chosenStatuses);
    renderSummary(table.tick(now()));
  });
}

/** The headers, the Order select and the table agree; the choice is remembered for this tab. */
function applyOrder(order) {
  table.setOrder(order);
  const { key, dir } = table.orderBy;
  sortSelect.value = key;
  groupSelect.value = table.orderBy.group;
  for (const th of sortHeaders) {
    if (th.dataset.sort === key) th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  try {
    sessionStorage.setItem('beacon-order', JSON.stringify(table.orderBy));
  } catch {
    // Not remembered: fine.
  }
}

for (const th of sortHeaders) {
  th.querySelector('button')?.addEventListener('click', () => {
    const { key, dir } = table.orderBy;
    applyOrder({ key: th.dataset.sort, dir: key === th.dataset.sort ? -dir : 1 });
  });
}
sortSelect.addEventListener('change', () => applyOrder({ key: sortSelect.value, dir: 1 }));
groupSelect.addEventListener('change', () => applyOrder({ group: groupSelect.value }));

try {
  const saved = JSON.parse(sessionStorage.getItem('beacon-order') ?? 'null');
  if (saved && SORT_KEYS.includes(saved.key)) {
    applyOrder({ key: saved.key, dir: saved.dir === -1 ? -1 : 1, group: ['type', 'tag', 'host'].includes(saved.group) ? saved.group : '' });
  }
} catch {
  // A damaged saved order: the default one.
}

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
  incidents.tick(at);
}, 1000);

showState('connecting');
renderSummary(table.tick(now()));
feed.start();
stats.start();
incidents.start();
uptime.start();
