// Open incidents at the top of the dashboard, their durations counting every second, with
// acknowledge/resolve where the page may act; and the resolved ones, a page at a time.
// Loaded from registry-api (GET /api/v1/incidents), kept current by the live feed's
// incident_* messages, and fetched again every minute in case one was missed. Without the
// incidents routes (an older registry-api, a 404/503) it says so and the page carries on.

import { canAct, failure, getJson, sendJson } from './api.js';
import { duration, localTime } from './format.js';

const POLL_MS = 60_000;
const OPEN_LIMIT = 100;
const HISTORY_PAGE = 20;
/** How many open incidents the page holds at most (more are counted, not listed). */
const MAX_OPEN = 500;
const LIVE_TYPES = new Set(['incident_opened', 'incident_resolved', 'incident_acknowledged', 'incident_reminder']);

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

const KIND_TEXT = { down: 'down', expired: 'heartbeats stopped', critical_load: 'critical load' };

/** Whether a value looks like an incident (the API's or a live message's data). */
function isIncident(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.incident_id === 'string' &&
    typeof value.service_id === 'string' &&
    typeof value.started_at === 'string'
  );
}

export class IncidentsPanel {
  /** incident_id → { incident, li, duration } of the open ones, newest first in the list. */
  #open = new Map();
  #total = 0;
  #available = true;
  #timer = 0;
  #historySkip = 0;
  #frame = 0;

  /**
   * @param {{ now(): number, onChange(openServiceIds: Set<string>): void, onShowService(id: string): void }} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.root = document.getElementById('incidents');
    this.count = document.getElementById('incidents-count');
    this.state = document.getElementById('incidents-state');
    this.list = document.getElementById('incidents-list');
    this.history = document.getElementById('history');
    this.historyToggle = document.getElementById('history-toggle');
    this.historyState = document.getElementById('history-state');
    this.historyList = document.getElementById('history-list');
    this.historyPage = document.getElementById('history-page');
    this.newer = document.getElementById('history-newer');
    this.older = document.getElementById('history-older');
    this.historyToggle.addEventListener('click', () => this.#toggleHistory());
    this.newer.addEventListener('click', () => this.#loadHistory(Math.max(0, this.#historySkip - HISTORY_PAGE)));
    this.older.addEventListener('click', () => this.#loadHistory(this.#historySkip + HISTORY_PAGE));
    // One listener for every incident's buttons and links.
    this.root.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const button = target?.closest('button[data-action]');
      if (button) void this.#act(button);
      const link = target?.closest('a[data-service]');
      if (link) {
        event.preventDefault();
        handlers.onShowService(link.dataset.service);
      }
    });
  }

  start() {
    void this.load();
    this.#timer = setInterval(() => void this.load(), POLL_MS);
  }

  stop() {
    clearInterval(this.#timer);
  }

  async load() {
    try {
      const body = await getJson(`/incidents?status=open&limit=${OPEN_LIMIT}`);
      const incidents = Array.isArray(body?.incidents) ? body.incidents.filter(isIncident) : [];
      this.#available = true;
      this.#total = typeof body.total === 'number' ? body.total : incidents.length;
      this.#replace(incidents);
    } catch (error) {
      this.#available = false;
      this.#replace([]);
      this.#setState(`No incident data (${failure(error)}).`, 'error');
    }
  }

  /** A live incident_* message. */
  apply(message) {
    if (!LIVE_TYPES.has(message.type) || !isIncident(message.data)) return;
    const incident = message.data;
    if (incident.status === 'resolved' || message.type === 'incident_resolved') {
      if (this.#open.delete(incident.incident_id)) this.#total = Math.max(0, this.#total - 1);
      if (!this.history.hidden && this.#historySkip === 0) void this.#loadHistory(0);
    } else {
      if (!this.#open.has(incident.incident_id)) {
        if (this.#open.size >= MAX_OPEN) return;
        this.#total += 1;
      }
      this.#open.set(incident.incident_id, incident);
    }
    // A live message means the routes exist, whatever the last poll said.
    if (!this.#available) {
      this.#available = true;
      this.#setState('', 'ok');
    }
    // Once per frame: an outage opens many incidents at once.
    if (!this.#frame) this.#frame = requestAnimationFrame(() => this.#render());
  }

  /** Once a second: the open incidents' durations. */
  tick(now) {
    for (const item of this.list.children) {
      const started = Number(item.dataset.startedMs);
      const time = item.querySelector('.incident-duration');
      if (time && Number.isFinite(started)) {
        const text = duration((now - started) / 1000);
        if (time.textContent !== text) time.textContent = text;
      }
    }
  }

  #replace(incidents) {
    this.#open = new Map(incidents.slice(0, MAX_OPEN).map((incident) => [incident.incident_id, incident]));
    this.#render();
  }

  #render() {
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    const now = this.handlers.now();
    const incidents = [...this.#open.values()].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at));
    this.list.replaceChildren(...incidents.map((incident) => this.#item(incident, now, true)));
    this.count.textContent = this.#available ? `(${this.#total})` : '';
    this.root.dataset.open = String(incidents.length);
    if (this.#available && incidents.length === 0) this.#setState('No open incidents.', 'none');
    else if (this.#available) this.#setState(this.#total > incidents.length ? `Showing ${incidents.length} of ${this.#total}.` : '', 'ok');
    this.handlers.onChange(new Set(incidents.map((incident) => incident.service_id)));
  }

  #item(incident, now, open) {
    const li = el('li', 'incident');
    li.dataset.incidentId = incident.incident_id;
    li.dataset.kind = incident.kind;
    if (incident.acknowledged_at) li.dataset.acknowledged = 'true';
    const started = Date.parse(incident.started_at);
    li.dataset.startedMs = String(started);

    const head = el('div', 'incident-head');
    const name = el('a', 'incident-service', incident.service_name || incident.service_id);
    name.href = `#/services/${encodeURIComponent(incident.service_id)}`;
    name.dataset.service = incident.service_id;
    head.append(el('span', 'incident-kind', KIND_TEXT[incident.kind] ?? String(incident.kind)), name);
    if (incident.acknowledged_at) head.append(el('span', 'incident-ack', 'acknowledged'));
    li.append(head);

    const facts = el('p', 'incident-facts');
    const since = el('time', '', localTime(incident.started_at));
    since.dateTime = incident.started_at;
    if (open) {
      facts.append('for ', el('span', 'incident-duration', duration((now - started) / 1000)), ' since ', since);
    } else {
      facts.append(`lasted ${duration(incident.duration_seconds)} from `, since);
      facts.append(`, resolved ${incident.resolved_by === 'manual' ? 'by hand' : 'automatically'}`);
    }
    if (incident.failed_checks > 0) facts.append(` · ${incident.failed_checks} failed check${incident.failed_checks === 1 ? '' : 's'}`);
    li.append(facts);
    if (incident.cause) li.append(el('p', 'incident-cause', incident.cause));
    if (incident.note) li.append(el('p', 'incident-note', `Note: ${incident.note}`));

    if (open && canAct) {
      const actions = el('div', 'incident-actions');
      if (!incident.acknowledged_at) actions.append(this.#button('acknowledge', 'Acknowledge', incident));
      actions.append(this.#button('resolve', 'Resolve', incident));
      actions.append(el('span', 'incident-result'));
      li.append(actions);
    }
    return li;
  }

  #button(action, text, incident) {
    const button = el('button', 'small-button', text);
    button.type = 'button';
    button.dataset.action = action;
    button.dataset.incident = incident.incident_id;
    button.setAttribute('aria-label', `${text} the incident of ${incident.service_name || incident.service_id}`);
    return button;
  }

  async #act(button) {
    const { action, incident: id } = button.dataset;
    const result = button.parentElement?.querySelector('.incident-result');
    button.disabled = true;
    try {
      const updated = await sendJson('POST', `/incidents/${encodeURIComponent(id)}/${action}`, {});
      if (isIncident(updated)) this.apply({ type: `incident_${action === 'resolve' ? 'resolved' : 'acknowledged'}`, data: updated });
      else await this.load();
    } catch (error) {
      button.disabled = false;
      if (result) {
        result.textContent = `Could not ${action}: ${failure(error)}`;
        result.dataset.state = 'error';
      }
    }
  }

  #toggleHistory() {
    const show = this.history.hidden;
    this.history.hidden = !show;
    this.historyToggle.setAttribute('aria-expanded', String(show));
    if (show) void this.#loadHistory(0);
  }

  async #loadHistory(skip) {
    this.#historySkip = skip;
    this.historyState.textContent = 'Loading…';
    this.historyState.dataset.state = 'loading';
    try {
      const body = await getJson(`/incidents?status=resolved&limit=${HISTORY_PAGE}&skip=${skip}`);
      if (skip !== this.#historySkip) return;
      const incidents = Array.isArray(body?.incidents) ? body.incidents.filter(isIncident) : [];
      const total = typeof body.total === 'number' ? body.total : incidents.length;
      const now = this.handlers.now();
      this.historyList.replaceChildren(...incidents.map((incident) => this.#item(incident, now, false)));
      this.historyState.textContent = total === 0 ? 'No resolved incidents.' : '';
      this.historyState.dataset.state = 'loaded';
      this.historyPage.textContent = total > 0 ? `${skip + 1}–${skip + incidents.length} of ${total}` : '';
      this.newer.disabled = skip === 0;
      this.older.disabled = skip + incidents.length >= total;
    } catch (error) {
      if (skip !== this.#historySkip) return;
      this.historyList.replaceChildren();
      this.historyState.textContent = `No incident history (${failure(error)}).`;
      this.historyState.dataset.state = 'error';
      this.historyPage.textContent = '';
      this.newer.disabled = true;
      this.older.disabled = true;
    }
  }

  #setState(text, state) {
    if (this.state.textContent !== text) this.state.textContent = text;
    this.state.dataset.state = state;
  }
}
