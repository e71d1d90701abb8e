// The catalog table. Each service owns one <tr>, found by service_id and updated in
// place: an event touches one row, the filter only toggles `hidden`, and the 1 s tick
// rewrites the time texts of the rows on screen only (an IntersectionObserver knows which),
// so thousands of rows cost a few dozen DOM writes a second.
// Sorting, grouping and the status pills keep this: a change moves at most its own row
// (checked against its neighbours), and a new order re-inserts only displaced rows.
// All data goes in through textContent/attributes, never as markup.

import { latencyLabel, latencyLine, percent, uptimeBar } from './bars.js';
import { statusAt } from './catalog.js';
import { ago, duration, endpointUrl, linkUrl, localTime } from './format.js';
import { comparator, groupOf } from './order.js';

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

const COLUMNS = 9;

export class ServiceTable {
  /** service_id → row record */
  #rows = new Map();
  /** Rows in display order, mirrored by the <tbody>. */
  #order = [];
  #words = [];
  /** Statuses the pills let through; empty: all. */
  #statuses = new Set();
  #orderBy = { key: 'name', dir: 1, group: '' };
  #compare = comparator(this.#orderBy);
  /** Group header rows by group name, and the boundaries they were placed at. */
  #groupRows = new Map();
  #groupsKey = '';
  #selectedId = null;
  /** The last uptime bars and open-incident ids, kept for rows that appear after them. */
  #bars = new Map();
  #incidentIds = new Set();
  /** "5-minute": the uptime windows' length, for the bars' labels. */
  #windowText = '5-minute';
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
      // A link opens its endpoint, not the details.
      if (target.closest('a')) return;
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
    this.#order.sort(this.#compare);
    for (const row of this.#order) this.#rows.set(row.id, row);
    const fragment = document.createDocumentFragment();
    for (const row of this.#order) fragment.append(row.tr);
    this.tbody.replaceChildren(fragment);
    this.#groupsKey = '';
    this.#groupRows.clear();
    this.regroup();
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
    const before = `${row.status} ${row.service.health}`;
    this.#fill(row, service, now);
    this.#keepInPlace(row);
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

  // ---- order, groups and filters ----

  get orderBy() {
    return { ...this.#orderBy };
  }

  /** A new order or grouping: one sort, then only the rows out of place move. */
  setOrder({ key = this.#orderBy.key, dir = this.#orderBy.dir, group = this.#orderBy.group } = {}) {
    this.#orderBy = { key, dir, group };
    this.#compare = comparator(this.#orderBy);
    this.#order.sort(this.#compare);
    this.#arrange();
    this.regroup();
  }

  /** The pills: statuses to show (none: every status). Returns how many rows show. */
  setStatuses(statuses) {
    this.#statuses = new Set(statuses);
    let shown = 0;
    for (const row of this.#order) if (this.#applyFilter(row)) shown += 1;
    this.regroup();
    return shown;
  }

  /**
   * Each service's recent uptime (GET /uptime's bars, by service_id): its row's bar and
   * latency line, redrawn only when the numbers changed.
   */
  setUptime(bars, windowSeconds = 300) {
    this.#windowText = windowSeconds % 60 === 0 ? `${windowSeconds / 60}-minute` : `${windowSeconds}-second`;
    this.#bars = bars;
    for (const row of this.#order) this.#fillUptime(row, bars.get(row.id));
    if (this.#orderBy.key === 'uptime') this.setOrder();
  }

  /** service_ids with an open incident: they go first under "problems first", and are marked. */
  setIncidents(ids) {
    this.#incidentIds = ids;
    let changed = false;
    for (const row of this.#order) changed = this.#markIncident(row) || changed;
    if (changed && this.#orderBy.key === 'problems') this.setOrder();
  }

  #markIncident(row) {
    const open = this.#incidentIds.has(row.id);
    if (row.incident === open) return false;
    row.incident = open;
    row.tr.classList.toggle('has-incident', open);
    return true;
  }

  /**
   * Group header rows before the first row of each group, hidden when nothing in the
   * group shows. Rebuilt only when the groups' boundaries or visible counts changed.
   */
  regroup() {
    const group = this.#orderBy.group;
    const boundaries = [];
    let current = null;
    for (const row of this.#order) {
      const name = group ? groupOf(row, group) : '';
      if (!group) break;
      if (!current || current.name !== name) {
        current = { name, first: row, shown: 0, total: 0 };
        boundaries.push(current);
      }
      current.total += 1;
      if (!row.tr.hidden) current.shown += 1;
    }
    const key = boundaries.map((b) => `${b.name}\u0000${b.first.id}\u0000${b.shown}\u0000${b.total}`).join('\u0001');
    if (key === this.#groupsKey) return;
    this.#groupsKey = key;
    const keep = new Map();
    for (const boundary of boundaries) {
      const head = this.#groupRows.get(boundary.name) ?? this.#groupHead(boundary.name);
      keep.set(boundary.name, head);
      setText(head.label, boundary.name);
      setText(head.count, boundary.shown === boundary.total ? String(boundary.total) : `${boundary.shown} of ${boundary.total}`);
      head.tr.hidden = boundary.shown === 0;
      if (head.tr.nextSibling !== boundary.first.tr) this.tbody.insertBefore(head.tr, boundary.first.tr);
    }
    for (const [name, head] of this.#groupRows) if (!keep.has(name)) head.tr.remove();
    this.#groupRows = keep;
  }

  #groupHead(name) {
    const tr = el('tr', 'group-row');
    tr.setAttribute('role', 'row');
    tr.dataset.group = name;
    const th = el('th');
    th.setAttribute('role', 'rowheader');
    th.setAttribute('aria-colspan', String(COLUMNS));
    th.scope = 'rowgroup';
    const label = el('span', 'group-name');
    const count = el('span', 'group-count');
    th.append(label, ' ', count);
    tr.append(th);
    return { tr, label, count };
  }

  /** Moves a row whose sort key changed, if it now sits out of order between its neighbours. */
  #keepInPlace(row) {
    const index = this.#order.indexOf(row);
    const before = this.#order[index - 1];
    const after = this.#order[index + 1];
    if ((!before || this.#compare(before, row) <= 0) && (!after || this.#compare(row, after) <= 0)) return;
    this.#order.splice(index, 1);
    this.#insert(row);
    this.regroup();
  }

  /** Makes the <tbody> follow #order, moving only rows that are out of place. */
  #arrange() {
    let cursor = this.tbody.firstElementChild;
    for (const row of this.#order) {
      while (cursor && cursor.classList.contains('group-row')) cursor = cursor.nextElementSibling;
      if (cursor === row.tr) {
        cursor = cursor.nextElementSibling;
      } else {
        this.tbody.insertBefore(row.tr, cursor);
      }
    }
  }

  /**
   * Once a second: statuses whose expires_at just passed (every row: the counts need them),
   * countdowns and "ago" texts (rows on screen). Returns the counts by status.
   */
  tick(now) {
    const counts = { active: 0, unhealthy: 0, inactive: 0, expired: 0, total: 0 };
    for (const row of [...this.#order]) {
      if (this.#updateStatus(row, now)) {
        this.#applyFilter(row);
        this.#keepInPlace(row);
      }
      counts[row.status] = (counts[row.status] ?? 0) + 1;
      counts.total += 1;
    }
    for (const row of this.#onScreen) this.#updateTimes(row, now);
    this.regroup();
    return counts;
  }

  /** Words typed in the filter box; a row must contain all of them. Returns how many show. */
  setFilter(text) {
    this.#words = text.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of this.#order) if (this.#applyFilter(row)) shown += 1;
    this.regroup();
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
    const link = el('a', 'endpoint-link');
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
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
    const uptime = el('td', 'uptime');
    const uptimeValue = el('span', 'uptime-value', '—');
    const uptimeBox = el('span', 'uptime-graphs');
    uptime.append(uptimeBox, uptimeValue);

    const cells = [type, endpointCell, statusCell, healthCell, uptime, tags, heartbeatCell, expiryCell];
    for (const cell of cells) cell.setAttribute('role', 'cell');
    tr.append(nameCell, ...cells);
    this.#observer.observe(tr);
    const row = {
      id: service.service_id,
      tr,
      nameButton,
      type,
      endpoint,
      endpointCell,
      link,
      copy,
      uptimeBox,
      uptimeValue,
      uptimeKey: null,
      uptime: Number.NaN,
      incident: false,
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
    this.#markIncident(row);
    this.#fillUptime(row, this.#bars.get(row.id));
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
    // http(s) endpoints open in a new tab; any other scheme stays plain text.
    const href = linkUrl(service);
    const holder = href ? row.link : row.endpointCell;
    if (href) setAttr(row.link, 'href', href);
    if (row.endpoint.parentElement !== holder) {
      if (href) {
        row.endpointCell.prepend(row.link);
        row.link.append(row.endpoint);
      } else {
        row.link.remove();
        row.endpointCell.prepend(row.endpoint);
      }
    }
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
    row.search = [service.name, service.type, ...tags, service.host, `${service.host}:${service.port}`, health].join('\n').toLowerCase();
    this.#updateStatus(row, now);
    this.#updateTimes(row, now);
    this.#applyFilter(row);
  }

  /** Returns true when the status changed (a filter or an order may depend on it). */
  #updateStatus(row, now) {
    const status = statusAt(row.service.status, row.expiresMs, now);
    if (status === row.status) return false;
    row.status = status;
    setText(row.statusBadge, status);
    row.statusCell.dataset.status = status;
    row.tr.dataset.status = status;
    if (status === 'expired') setText(row.expiry, 'expired');
    return true;
  }

  #fillUptime(row, bar) {
    const availability = Array.isArray(bar?.availability) ? bar.availability : [];
    const latency = Array.isArray(bar?.latency_p50) ? bar.latency_p50 : [];
    const key = bar ? `${bar.uptime_24h}|${availability.join(',')}|${latency.join(',')}` : '';
    if (key === row.uptimeKey) return;
    row.uptimeKey = key;
    row.uptime = typeof bar?.uptime_24h === 'number' ? bar.uptime_24h : Number.NaN;
    setText(row.uptimeValue, percent(row.uptime));
    setAttr(row.uptimeValue, 'title', 'Uptime over the last 24 hours');
    if (!bar || availability.length === 0) {
      row.uptimeBox.replaceChildren();
      return;
    }
    const down = availability.filter((value) => typeof value === 'number' && value < 0.999).length;
    const label = `Last ${availability.length} ${this.#windowText} windows: ${down} with failures; 24 h uptime ${percent(row.uptime)}`;
    const line = latencyLine(latency, { label: latencyLabel(latency) });
    row.uptimeBox.replaceChildren(uptimeBar(availability, { label, width: 90, height: 14 }), ...(line ? [line] : []));
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
    const visible =
      (this.#statuses.size === 0 || this.#statuses.has(row.status)) &&
      this.#words.every((word) => row.search.includes(word) || row.status.includes(word));
    if (row.tr.hidden === visible) row.tr.hidden = !visible;
    return visible;
  }

  /** Binary search for the row's place, then one insertBefore. */
  #insert(row) {
    let low = 0;
    let high = this.#order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#compare(this.#order[mid], row) < 0) low = mid + 1;
      else high = mid;
    }
    this.#order.splice(low, 0, row);
    // Before the next row, or after the last one (never after a trailing group header).
    const next = this.#order[low + 1]?.tr ?? null;
    // Before its group header, if it has one: the next regroup() moves the header up when the row opens the group.
    const head = next?.previousElementSibling?.classList.contains('group-row') ? next.previousElementSibling : null;
    this.tbody.insertBefore(row.tr, head ?? next);
  }

  /** A short highlight so a change is noticed; CSS turns it off for reduced motion. */
  #flash(row) {
    // No restart while one runs: restarting needs a forced layout, too costly in a burst.
    row.tr.classList.add('flash');
  }
}
