// The side panel for one service: its fields (kept live from the feed), its uptime over
// 1 h/24 h/7 d/30 d with its recent windows, its recent health checks from registry-api
// and a response-time sparkline; and, where the page may act, check now and deregister.

import { ApiError, canAct, failure, getJson, sendJson } from './api.js';
import { latencyLabel, latencyLine, percent, uptimeBar } from './bars.js';
import { effectiveStatus } from './catalog.js';
import { ago, clockTime, duration, endpointUrl, localTime } from './format.js';
import { sparkline } from './sparkline.js';

const CHECK_LIMIT = 30;

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

const orDash = (value) => (value === null || value === undefined || value === '' ? '—' : String(value));

export class DetailsPanel {
  #id = null;
  #service = null;
  #abort = null;
  /** last_health_check the shown history was fetched for: refetch when it moves. */
  #checksFor = undefined;
  #statusDd = null;
  #expiresDd = null;
  #lastCheckDd = null;
  #uptimeAbort = null;

  /**
   * @param {{ onClose(id: string, hadFocus: boolean): void, onCopy(button: HTMLButtonElement, url: string): void }} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.root = document.getElementById('details');
    this.title = document.getElementById('details-title');
    this.fields = document.getElementById('details-fields');
    this.gone = document.getElementById('details-gone');
    this.spark = document.getElementById('checks-spark');
    this.state = document.getElementById('checks-state');
    this.checksTable = document.getElementById('checks-table');
    this.checksRows = document.getElementById('checks-rows');
    document.getElementById('details-close').addEventListener('click', () => this.close());
    document.getElementById('checks-refresh').addEventListener('click', () => this.#loadChecks());
    this.root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
    this.endpoint = document.getElementById('details-endpoint');
    this.copy = document.getElementById('details-copy');
    this.copy.addEventListener('click', () => {
      if (this.#service) handlers.onCopy(this.copy, endpointUrl(this.#service));
    });
    this.periods = document.getElementById('uptime-periods');
    this.uptimeBar = document.getElementById('uptime-bar');
    this.uptimeLatency = document.getElementById('uptime-latency');
    this.uptimeState = document.getElementById('uptime-state');
    this.actions = document.getElementById('details-actions');
    this.checkButton = document.getElementById('action-check');
    this.deregisterButton = document.getElementById('action-deregister');
    this.confirm = document.getElementById('action-confirm');
    this.actionState = document.getElementById('action-state');
    this.checkButton.addEventListener('click', () => void this.#checkNow());
    this.deregisterButton.addEventListener('click', () => {
      this.confirm.hidden = false;
      this.deregisterButton.hidden = true;
      document.getElementById('action-confirm-no').focus();
    });
    document.getElementById('action-confirm-no').addEventListener('click', () => this.#resetActions());
    document.getElementById('action-confirm-yes').addEventListener('click', () => void this.#deregister());
  }

  get openId() {
    return this.#id;
  }

  open(service, now) {
    const switched = this.#id !== service.service_id;
    this.#id = service.service_id;
    this.root.hidden = false;
    this.update(service, now);
    if (switched) {
      this.#resetActions();
      this.actionState.textContent = '';
      this.#loadChecks();
      this.#loadUptime();
    }
    this.title.focus();
  }

  /** The feed changed the open service: show it, and fetch checks if a new one ran. */
  update(service, now) {
    if (service.service_id !== this.#id) return;
    this.#service = service;
    this.gone.hidden = true;
    // Only where the page may write; registry-api still checks the token.
    this.actions.hidden = !canAct;
    this.checkButton.hidden = !(service.health_check_url || service.health_check_tcp);
    this.title.textContent = service.name;
    const url = endpointUrl(service);
    this.endpoint.textContent = url;
    this.copy.setAttribute('aria-label', `Copy ${url}`);
    this.#renderFields(service, now);
    if (this.#checksFor !== undefined && service.last_health_check !== this.#checksFor) this.#loadChecks();
  }

  /** The service was deregistered while shown: keep what we know, say so. */
  removed(id) {
    if (id !== this.#id) return;
    this.gone.hidden = false;
    this.actions.hidden = true;
  }

  /** Once a second, for the status and countdown that time changes without an event. */
  tick(now) {
    if (this.#service && !this.root.hidden) this.#tickFields(this.#service, now);
  }

  close() {
    if (this.root.hidden) return;
    const id = this.#id;
    const hadFocus = this.root.contains(document.activeElement);
    this.root.hidden = true;
    this.#abort?.abort();
    this.#uptimeAbort?.abort();
    this.#id = null;
    this.#service = null;
    this.#checksFor = undefined;
    this.handlers.onClose(id, hadFocus);
  }

  /** Rebuilt per change (one panel, a dozen fields); nothing focusable lives in here. */
  #renderFields(service, now) {
    const check = service.health_check_url ?? service.health_check_tcp;
    const fields = [
      ['Service ID', service.service_id, 'mono'],
      ['Type', service.type],
      ['Status', '', 'status'],
      ['Health', service.health ?? 'unknown', 'health'],
      ['Protocol', orDash(service.protocol)],
      ['Version', orDash(service.version)],
      ['Node', orDash(service.node_id)],
      ['Tags', Array.isArray(service.tags) && service.tags.length ? service.tags.join(', ') : '—'],
      ['Metadata', service.metadata, 'metadata'],
      ['TTL', `${service.ttl}s`],
      ['Expires', '', 'expires'],
      ['Last heartbeat', service.last_heartbeat ? localTime(service.last_heartbeat) : 'none yet'],
      ['Health check', check ? `${check} every ${service.health_check_interval}s` : 'none (kept alive by heartbeats)'],
      ['Last check', '', 'last-check'],
      ['Load', typeof service.load === 'number' ? `${Math.round(service.load * 100)}%` : '—'],
      ['Registered', localTime(service.created_at)],
      ['Revision', orDash(service.revision)],
    ];
    const items = [];
    for (const [label, value, kind] of fields) {
      const dd = el('dd');
      if (kind === 'status' || kind === 'health') {
        dd.append(el('span', 'badge', value));
        if (kind === 'status') this.#statusDd = dd;
        else dd.dataset.health = value;
      } else if (kind === 'metadata') {
        const entries = Object.entries(value ?? {});
        if (entries.length === 0) dd.textContent = '—';
        for (const [key, metaValue] of entries) dd.append(el('div', 'mono', `${key} = ${metaValue}`));
      } else if (kind === 'expires') {
        this.#expiresDd = dd;
      } else if (kind === 'last-check') {
        this.#lastCheckDd = dd;
        dd.className = 'last-check';
      } else {
        dd.textContent = value;
        if (kind) dd.className = kind;
      }
      items.push(el('dt', '', label), dd);
    }
    this.fields.replaceChildren(...items);
    this.#tickFields(service, now);
  }

  /** The parts that time changes without an event. */
  #tickFields(service, now) {
    const status = effectiveStatus(service, now);
    if (this.#statusDd.dataset.status !== status) {
      this.#statusDd.dataset.status = status;
      this.#statusDd.firstChild.textContent = status;
    }
    const left = (Date.parse(service.expires_at) - now) / 1000;
    const text =
      status === 'expired' || !(left > 0)
        ? `expired (${localTime(service.expires_at)})`
        : `in ${duration(left)} (${localTime(service.expires_at)})`;
    if (this.#expiresDd.textContent !== text) this.#expiresDd.textContent = text;
    const checked = Date.parse(service.last_health_check ?? '');
    const last = Number.isFinite(checked) ? `${ago(checked, now)} (${localTime(service.last_health_check)})` : '—';
    if (this.#lastCheckDd.textContent !== last) this.#lastCheckDd.textContent = last;
  }

  async #loadUptime() {
    const id = this.#id;
    if (!id) return;
    this.#uptimeAbort?.abort();
    const abort = new AbortController();
    this.#uptimeAbort = abort;
    this.uptimeState.textContent = 'Loading uptime…';
    this.uptimeState.dataset.state = 'loading';
    try {
      const body = await getJson(`/services/${encodeURIComponent(id)}/uptime`, { signal: abort.signal });
      if (abort.signal.aborted || id !== this.#id) return;
      this.#renderUptime(body);
    } catch (error) {
      if (abort.signal.aborted) return;
      this.periods.replaceChildren();
      this.uptimeBar.replaceChildren();
      this.uptimeLatency.replaceChildren();
      // 404/503: no history kept (yet) for it, which is no error of the page's.
      const none = error instanceof ApiError && (error.status === 404 || error.status === 503);
      this.uptimeState.dataset.state = none ? 'empty' : 'error';
      this.uptimeState.textContent = none ? 'No uptime data.' : `No uptime data (${failure(error)}).`;
    }
  }

  #renderUptime(body) {
    const uptime = body?.uptime ?? {};
    const items = [];
    for (const [period, label] of [
      ['1h', '1 hour'],
      ['24h', '24 hours'],
      ['7d', '7 days'],
      ['30d', '30 days'],
    ]) {
      const dd = el('dd', '', percent(uptime[period]));
      dd.dataset.period = period;
      items.push(el('dt', '', label), dd);
    }
    this.periods.replaceChildren(...items);
    const windows = Array.isArray(body?.windows) ? body.windows.slice(-90) : [];
    const availability = windows.map((window) => window?.availability ?? null);
    const latency = windows.map((window) => window?.response_time_ms?.p50 ?? null);
    this.uptimeBar.replaceChildren(
      ...(windows.length ? [uptimeBar(availability, { label: `Last ${windows.length} five-minute windows`, width: 320, height: 24 })] : []),
    );
    const line = latencyLine(latency, { label: latencyLabel(latency), width: 320, height: 40 });
    this.uptimeLatency.replaceChildren(...(line ? [line] : []));
    this.uptimeState.dataset.state = windows.length ? 'loaded' : 'empty';
    this.uptimeState.textContent = windows.length
      ? `From ${body.source === 'heartbeats' ? 'heartbeats' : 'health checks'}; bar: last ${windows.length} five-minute windows, oldest left.`
      : 'No windows recorded yet.';
  }

  #resetActions() {
    this.confirm.hidden = true;
    this.deregisterButton.hidden = false;
  }

  #say(text, state) {
    this.actionState.textContent = text;
    this.actionState.dataset.state = state;
  }

  async #checkNow() {
    const id = this.#id;
    if (!id) return;
    this.checkButton.disabled = true;
    this.#say('Checking…', 'busy');
    try {
      const body = await sendJson('POST', `/services/${encodeURIComponent(id)}/health-check`);
      if (id !== this.#id) return;
      const result = body?.result ?? {};
      const parts = [result.outcome ?? result.health ?? 'done'];
      if (Number.isFinite(result.status_code)) parts.push(`HTTP ${result.status_code}`);
      if (Number.isFinite(result.response_time_ms)) parts.push(`${Math.round(result.response_time_ms)} ms`);
      if (result.error) parts.push(result.error);
      this.#say(`Checked: ${parts.join(', ')}`, 'ok');
      this.#loadChecks();
    } catch (error) {
      if (id === this.#id) this.#say(`Check failed: ${failure(error)}`, 'error');
    } finally {
      this.checkButton.disabled = false;
    }
  }

  async #deregister() {
    const id = this.#id;
    if (!id) return;
    this.#resetActions();
    this.#say('Deregistering…', 'busy');
    try {
      await sendJson('DELETE', `/services/${encodeURIComponent(id)}`);
      // The feed's service_deregistered removes the row and marks this panel.
      if (id === this.#id) this.#say('Deregistered.', 'ok');
    } catch (error) {
      if (id === this.#id) this.#say(`Could not deregister: ${failure(error)}`, 'error');
    }
  }

  async #loadChecks() {
    const id = this.#id;
    if (!id) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.#checksFor = this.#service?.last_health_check ?? null;
    this.state.textContent = 'Loading health checks…';
    this.state.dataset.state = 'loading';
    try {
      const body = await getJson(`/services/${encodeURIComponent(id)}/health-checks?limit=${CHECK_LIMIT}`, { signal: abort.signal });
      if (abort.signal.aborted || id !== this.#id) return;
      this.#renderChecks(Array.isArray(body.checks) ? body.checks : []);
    } catch (error) {
      if (abort.signal.aborted) return;
      this.spark.replaceChildren();
      this.checksTable.hidden = true;
      this.state.dataset.state = 'error';
      this.state.textContent =
        error instanceof ApiError && error.status === 404
          ? 'No health check history: the registry does not know this service (any more).'
          : `Could not load health checks (${error instanceof Error ? error.message : 'network error'}).`;
    }
  }

  #renderChecks(checks) {
    const graph = sparkline(checks);
    this.spark.replaceChildren(...(graph ? [graph] : []));
    if (checks.length === 0) {
      this.checksTable.hidden = true;
      this.state.dataset.state = 'empty';
      const configured = this.#service?.health_check_url ?? this.#service?.health_check_tcp;
      this.state.textContent = configured
        ? 'No checks yet: the first one runs within its interval.'
        : 'No checks yet: this service has no health check configured.';
      return;
    }
    this.state.dataset.state = 'loaded';
    this.state.textContent = `${checks.length} most recent check${checks.length === 1 ? '' : 's'}, newest first.`;
    this.checksRows.replaceChildren(
      ...checks.map((check) => {
        const tr = el('tr');
        const when = el('time', '', clockTime(check.checked_at));
        when.dateTime = check.checked_at ?? '';
        when.title = localTime(check.checked_at);
        const whenCell = el('td');
        whenCell.append(when);
        const outcome = el('td');
        outcome.dataset.health = check.health ?? 'unknown';
        outcome.append(el('span', 'badge', orDash(check.outcome)));
        // The error under its outcome: a column of its own would be empty for most rows.
        if (check.error) outcome.append(el('span', 'check-error', check.error));
        tr.append(
          whenCell,
          outcome,
          el('td', 'num', orDash(check.status_code)),
          el('td', 'num', Number.isFinite(check.response_time_ms) ? `${Math.round(check.response_time_ms)} ms` : '—'),
        );
        return tr;
      }),
    );
    this.checksTable.hidden = false;
  }
}
