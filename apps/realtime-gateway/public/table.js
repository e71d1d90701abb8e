// The catalog table. Each service owns one <tr>, found by service_id and updated in
// place: an event touches one row, the filter only toggles `hidden`, and the 1 s tick
// rewrites the time texts of the rows on screen only (an IntersectionObserver knows which),
// so thousands of rows cost a few dozen DOM writes a second.
// All data goes in through textContent/attributes, never as markup.

import { statusAt } from './catalog.js';
import { ago, duration, endpointUrl, localTime } from './format.js';

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function setAttr(element, name, value) {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Rows sort by name, then endpoint: a stable order that does not jump on status changes. */
function compare(a, b) {
  return (
    collator.compare(a.service.name, b.service.name) ||
    collator.compare(a.service.host, b.service.host) ||
    a.service.port - b.service.port ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function sortKey(service) {
  return `${service.name}\u0000${service.host}\u0000${service.port}`;
}

export class ServiceTable {
  /** service_id → row record */
  #rows = new Map();
  /** Rows in display order, mirrored by the <tbody>. */
  #order = [];
  #words = [];
  #selectedId = null;
  /** Rows in or near the viewport: the only ones whose time texts the tick rewrites. */
  #onScreen = new Set();
  #observer = new IntersectionObserver((entries) => this.#visibility(entries), { rootMargin: '200px 0px' });

  /**
   * @param {HTMLTableSectionElement} tbody
   * @param {{ onOpen(id: string): void, onCopy(button: HTMLButtonElement, url: string): void, now(): number }} handlers
   */
  constructor(tbody, handlers) {
    this.tbody = tbody;
    this.now = handlers.now;
    // One listener for every row, so rows carry no closures.
    tbody.addEventListener('animationend', (event) => {
      if (event.target instanceof Element) event.target.classList.remove('flash');
    });
    tbody.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const tr = target?.closest('tr[data-service-id]');
      if (!tr) return;
      const row = this.#rows.get(tr.dataset.serviceId);
      if (!row) return;
      const copy = target.closest('button.copy');
      if (copy) {
        handlers.onCopy(copy, endpointUrl(row.service));
        return;
      }
      // Selecting text in a row is not a click on it.
      if (window.getSelection()?.toString()) return;
      handlers.onOpen(row.id);
    });
  }

  get size() {
    return this.#rows.size;
  }

  /**
   * Shows exactly these services (a snapshot). The first one builds every row at once (one
   * sort, one insertion); a later one (after a resync) updates rows in place, so focus and
   * selection survive.
   */
  replaceAll(services, now) {
    if (this.#rows.size > 0) {
      const keep = new Set(services.map((service) => service.service_id));
      for (const id of [...this.#rows.keys()]) if (!keep.has(id)) this.remove(id);
      for (const service of services) this.upsert(service, now, { flash: false });
      return;
    }
    this.#order = services.map((service) => this.#create(service, now));
    this.#order.sort(compare);
    for (const row of this.#order) this.#rows.set(row.id, row);
    const fragment = document.createDocumentFragment();
    for (const row of this.#order) fragment.append(row.tr);
    this.tbody.replaceChildren(fragment);
    if (this.#selectedId) this.select(this.#selectedId);
  }

  upsert(service, now, { flash = true } = {}) {
    const row = this.#rows.get(service.service_id);
    if (!row) {
      const created = this.#create(service, now);
      this.#rows.set(created.id, created);
      this.#insert(created);
      if (flash) this.#flash(created);
      return;
    }
    const moved = sortKey(row.service) !== sortKey(service);
    const before = `${row.status} ${row.service.health}`;
    this.#fill(row, service, now);
    if (moved) {
      this.#order.splice(this.#order.indexOf(row), 1);
      this.#insert(row);
    }
    // Highlight what matters (status, health), not every heartbeat.
    if (flash && before !== `${row.status} ${service.health}`) this.#flash(row);
  }

  remove(id) {
    const row = this.#rows.get(id);
    if (!row) return;
    this.#rows.delete(id);
    this.#order.splice(this.#order.indexOf(row), 1);
    this.#observer.unobserve(row.tr);
    this.#onScreen.delete(row);
    row.tr.remove();
  }

  /**
   * Once a second: statuses whose expires_at just passed (every row: the counts need them),
   * countdowns and "ago" texts (rows on screen). Returns the counts by status.
   */
  tick(now) {
    const counts = { active: 0, unhealthy: 0, inactive: 0, expired: 0, total: 0 };
    for (const row of this.#order) {
      this.#updateStatus(row, now);
      counts[row.status] = (counts[row.status] ?? 0) + 1;
      counts.total += 1;
    }
    for (const row of this.#onScreen) this.#updateTimes(row, now);
    return counts;
  }

  /** Words typed in the filter box; a row must contain all of them. Returns how many show. */
  setFilter(text) {
    this.#words = text.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of this.#order) if (this.#applyFilter(row)) shown += 1;
    return shown;
  }

  countShown() {
    let shown = 0;
    for (const row of this.#order) if (!row.tr.hidden) shown += 1;
    return shown;
  }

  /** Marks the row whose details are open (and un-marks the previous one). */
  select(id) {
    const previous = this.#selectedId ? this.#rows.get(this.#selectedId) : undefined;
    if (previous) {
      previous.tr.classList.remove('selected');
      previous.nameButton.setAttribute('aria-expanded', 'false');
    }
    this.#selectedId = id;
    const row = id ? this.#rows.get(id) : undefined;
    if (row) {
      row.tr.classList.add('selected');
      row.nameButton.setAttribute('aria-expanded', 'true');
    }
  }

  focusRow(id) {
    this.#rows.get(id)?.nameButton.focus();
  }

  #create(service, now) {
    // Explicit roles: the rows are laid out as grids (dashboard.css), which must not cost the table its semantics.
    const tr = el('tr');
    tr.setAttribute('role', 'row');
    tr.dataset.serviceId = service.service_id;
    const nameCell = el('th');
    nameCell.scope = 'row';
    nameCell.setAttribute('role', 'rowheader');
    const nameButton = el('button', 'name-button');
    nameButton.type = 'button';
    nameButton.setAttribute('aria-controls', 'details');
    nameButton.setAttribute('aria-expanded', 'false');
    nameCell.append(nameButton);

    const endpointCell = el('td', 'endpoint');
    const endpoint = el('code');
    const copy = el('button', 'copy small-button', 'Copy');
    copy.type = 'button';
    endpointCell.append(endpoint, ' ', copy);

    const statusCell = el('td', 'status');
    const statusBadge = el('span', 'badge');
    statusCell.append(statusBadge);
    const healthCell = el('td', 'health');
    const healthBadge = el('span', 'badge');
    healthCell.append(healthBadge);
    const heartbeat = el('time');
    const heartbeatCell = el('td', 'heartbeat');
    heartbeatCell.append(heartbeat);
    const expiry = el('time');
    const expiryCell = el('td', 'expiry');
    expiryCell.append(expiry);
    const type = el('td', 'type');
    const tags = el('td', 'tags');

    const cells = [type, endpointCell, statusCell, healthCell, tags, heartbeatCell, expiryCell];
    for (const cell of cells) cell.setAttribute('role', 'cell');
    tr.append(nameCell, ...cells);
    this.#observer.observe(tr);
    const row = {
      id: service.service_id,
      tr,
      nameButton,
      type,
      endpoint,
      copy,
      statusCell,
      statusBadge,
      healthCell,
      healthBadge,
      tags,
      heartbeat,
      expiry,
      service: null,
      status: '',
      tagsKey: null,
      search: '',
      expiresMs: 0,
      heartbeatMs: Number.NaN,
    };
    this.#fill(row, service, now);
    return row;
  }

  /** Writes a service's fields into its row; the time-dependent cells are the tick's. */
  #fill(row, service, now) {
    row.service = service;
    // The revision shown is the one applied: tests (and curious people) can tell an event arrived.
    setAttr(row.tr, 'data-revision', String(service.revision ?? ''));
    setText(row.nameButton, service.name);
    setText(row.type, service.type);
    const url = endpointUrl(service);
    setText(row.endpoint, `${service.host}:${service.port}`);
    setAttr(row.endpoint, 'title', url);
    setAttr(row.copy, 'aria-label', `Copy ${url}`);
    const health = service.health ?? 'unknown';
    setText(row.healthBadge, health);
    setAttr(row.healthCell, 'data-health', health);
    const tags = Array.isArray(service.tags) ? service.tags : [];
    const tagsKey = tags.join('\u0000');
    if (tagsKey !== row.tagsKey) {
      row.tagsKey = tagsKey;
      row.tags.replaceChildren(...tags.map((tag) => el('span', 'tag', tag)));
    }
    row.expiresMs = Date.parse(service.expires_at);
    row.heartbeatMs = Date.parse(service.last_heartbeat ?? '');
    setAttr(row.expiry, 'datetime', service.expires_at ?? '');
    setAttr(row.expiry, 'title', localTime(service.expires_at));
    setAttr(row.heartbeat, 'datetime', service.last_heartbeat ?? '');
    setAttr(row.heartbeat, 'title', service.last_heartbeat ? localTime(service.last_heartbeat) : 'no heartbeat yet');
    row.search = [service.name, service.type, ...tags, service.host, `${service.host}:${service.port}`].join('\n').toLowerCase();
    this.#updateStatus(row, now);
    this.#updateTimes(row, now);
    this.#applyFilter(row);
  }

  #updateStatus(row, now) {
    const status = statusAt(row.service.status, row.expiresMs, now);
    if (status === row.status) return;
    row.status = status;
    setText(row.statusBadge, status);
    row.statusCell.dataset.status = status;
    row.tr.dataset.status = status;
    if (status === 'expired') setText(row.expiry, 'expired');
  }

  #updateTimes(row, now) {
    const left = (row.expiresMs - now) / 1000;
    setText(row.expiry, row.status === 'expired' || !(left > 0) ? 'expired' : duration(left));
    setText(row.heartbeat, Number.isFinite(row.heartbeatMs) ? ago(row.heartbeatMs, now) : '—');
  }

  /** Rows scrolled (or filtered) into view get current texts at once, not at the next tick. */
  #visibility(entries) {
    const now = this.now();
    for (const entry of entries) {
      const row = this.#rows.get(entry.target.dataset.serviceId);
      if (!row) continue;
      if (entry.isIntersecting) {
        this.#onScreen.add(row);
        this.#updateTimes(row, now);
      } else {
        this.#onScreen.delete(row);
      }
    }
  }

  #applyFilter(row) {
    const visible = this.#words.every((word) => row.search.includes(word));
    if (row.tr.hidden === visible) row.tr.hidden = !visible;
    return visible;
  }

  /** Binary search for the row's place, then one insertBefore. */
  #insert(row) {
    let low = 0;
    let high = this.#order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.#order[mid], row) < 0) low = mid + 1;
      else high = mid;
    }
    this.#order.splice(low, 0, row);
    this.tbody.insertBefore(row.tr, this.#order[low + 1]?.tr ?? null);
  }

  /** A short highlight so a change is noticed; CSS turns it off for reduced motion. */
  #flash(row) {
    // No restart while one runs: restarting needs a forced layout, too costly in a burst.
    row.tr.classList.add('flash');
  }
}
