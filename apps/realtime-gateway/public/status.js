// The read-only status page (/status): GET /api/v1/status-page, polled every minute.
// Services with 90-day uptime bars and the open incidents; no writes, no WebSocket.
// Open to read unless registry-api guards reads (BEACON_AUTH_READS): then it says how to
// pass a token, the same way the dashboard takes one (?token=, kept in memory only).

import { ApiError, failure, getJson, token } from './api.js';
import { percent, uptimeBar } from './bars.js';
import { duration, localTime } from './format.js';

const POLL_MS = 60_000;
const KIND_TEXT = { down: 'Down', expired: 'Not responding', critical_load: 'Overloaded' };

const title = document.getElementById('title');
const overall = document.getElementById('overall');
const incidentsSection = document.getElementById('status-incidents');
const incidentList = document.getElementById('status-incident-list');
const serviceList = document.getElementById('status-services');
const range = document.getElementById('range');
const updated = document.getElementById('updated');

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

const DOWN = new Set(['unhealthy', 'expired']);

/** Whether a service counts as down on this page: its status, or failing health checks. */
function isDown(service) {
  return DOWN.has(service.status) || service.health === 'unhealthy';
}

function renderService(service, days) {
  const li = el('li', 'status-service');
  li.dataset.serviceId = String(service.service_id);
  const down = isDown(service);
  li.dataset.state = down ? 'down' : 'up';
  const head = el('div', 'service-head');
  const state = el('span', '', down ? 'down' : service.status === 'inactive' ? 'paused' : 'up');
  const badge = el('span');
  badge.dataset.status = down ? 'unhealthy' : service.status === 'inactive' ? 'inactive' : 'active';
  state.className = 'badge';
  badge.append(state);
  head.append(
    el('span', 'service-name', String(service.name)),
    el(
      'span',
      'service-uptime',
      service.uptime === null || service.uptime === undefined ? 'no data yet' : `${percent(service.uptime)} uptime`,
    ),
    badge,
  );
  li.append(head);
  const values = Array.isArray(service.days) ? service.days : [];
  const bar = el('div', 'service-bar');
  const label = `${String(service.name)}: ${percent(service.uptime)} over ${values.length} days; ${
    values.filter((value) => typeof value === 'number' && value < 0.999).length
  } days with downtime`;
  bar.append(uptimeBar(values, { label, width: 450, height: 28 }));
  const legend = el('div', 'bar-legend');
  legend.append(el('span', '', days.length ? `${days.length} days ago` : ''), el('span', '', 'today'));
  li.append(bar, legend);
  return li;
}

function renderIncident(incident, now) {
  const li = el('li', 'status-incident');
  li.dataset.incidentId = String(incident.incident_id);
  const head = el('p');
  head.append(el('strong', '', `${KIND_TEXT[incident.kind] ?? 'Incident'}: `), String(incident.service_name ?? ''));
  const since = Date.parse(incident.started_at);
  const facts = el('p', '', `Since ${localTime(incident.started_at)} (${duration((now - since) / 1000)})`);
  li.append(head, facts);
  if (incident.acknowledged_at) li.append(el('p', '', 'Acknowledged: being looked at.'));
  return li;
}

function render(page) {
  const now = Date.now();
  const services = Array.isArray(page.services) ? page.services : [];
  const incidents = Array.isArray(page.incidents) ? page.incidents : [];
  const days = Array.isArray(page.days) ? page.days : [];
  const name = typeof page.title === 'string' && page.title ? page.title : 'Status';
  title.textContent = name;
  document.title = name;
  range.textContent = days.length ? `(uptime over the last ${days.length} days)` : '';
  const down = services.filter(isDown).length;
  if (services.length === 0) {
    overall.dataset.state = 'empty';
    overall.textContent = 'No services are shown on this page yet.';
  } else if (down === 0 && incidents.length === 0) {
    overall.dataset.state = 'up';
    overall.textContent = 'All systems operational';
  } else {
    overall.dataset.state = 'down';
    const count = Math.max(down, new Set(incidents.map((incident) => incident.service_id)).size);
    overall.textContent = `${count} of ${services.length} service${services.length === 1 ? '' : 's'} with problems`;
  }
  incidentsSection.hidden = incidents.length === 0;
  incidentList.replaceChildren(...incidents.map((incident) => renderIncident(incident, now)));
  serviceList.replaceChildren(...services.map((service) => renderService(service, days)));
  updated.textContent = `Updated ${localTime(page.generated_at ?? new Date(now).toISOString())}`;
}

function showError(error) {
  overall.dataset.state = 'error';
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    overall.textContent = token
      ? 'The registry refused this token.'
      : 'This registry requires a token to read its status: open this page as /status?token=<token>.';
  } else if (error instanceof ApiError && error.status === 404) {
    overall.textContent = 'No status data: this registry has no status page (HTTP 404).';
  } else {
    overall.textContent = `Status unavailable (${failure(error)}); retrying every minute.`;
  }
}

async function load() {
  try {
    render(await getJson('/status-page'));
  } catch (error) {
    showError(error);
  }
}

await load();
setInterval(() => void load(), POLL_MS);
