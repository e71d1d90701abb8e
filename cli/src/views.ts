import type { HealthCheckEntry, Incident, Service, Webhook, WebhookDelivery } from '@beacon/client';
import { ago, text, type Column } from './output';

/** The columns each kind of record is shown with. */
export const SERVICE_COLUMNS: Column<Service>[] = [
  { header: 'ID', value: (s) => s.service_id },
  { header: 'NAME', value: (s) => s.name },
  { header: 'TYPE', value: (s) => text(s.type) },
  { header: 'ADDRESS', value: (s) => `${s.host}:${s.port}` },
  { header: 'STATUS', value: (s) => s.status, tone: true },
  { header: 'HEALTH', value: (s) => s.health, tone: true },
  { header: 'HEARTBEAT', value: (s) => ago(s.last_heartbeat) },
  { header: 'TAGS', value: (s) => text(s.tags) },
];

export function serviceFields(s: Service): [string, string, boolean?][] {
  return [
    ['id', s.service_id],
    ['name', s.name],
    ['type', text(s.type)],
    ['address', `${s.host}:${s.port}`],
    ['protocol', text(s.protocol)],
    ['version', text(s.version)],
    ['status', s.status, true],
    ['health', s.health, true],
    ['tags', text(s.tags)],
    ['metadata', text(Object.entries(s.metadata ?? {}).map(([k, v]) => `${k}=${v}`))],
    ['ttl', `${s.ttl}s`],
    ['heartbeat', `${text(s.last_heartbeat)} (${ago(s.last_heartbeat)})`],
    ['expires', `${text(s.expires_at)} (${ago(s.expires_at)})`],
    ['check', text(s.health_check_url ?? s.health_check_tcp)],
    ['registered', text(s.created_at)],
  ];
}

export const INCIDENT_COLUMNS: Column<Incident>[] = [
  { header: 'ID', value: (i) => i.incident_id },
  { header: 'SERVICE', value: (i) => i.service_name },
  { header: 'KIND', value: (i) => i.kind, tone: true },
  { header: 'STATUS', value: (i) => i.status, tone: true },
  { header: 'STARTED', value: (i) => ago(i.started_at) },
  { header: 'ACK', value: (i) => (i.acknowledged_at ? 'yes' : '-') },
  { header: 'CAUSE', value: (i) => text(i.cause) },
];

export function incidentFields(i: Incident): [string, string, boolean?][] {
  return [
    ['id', i.incident_id],
    ['service', `${i.service_name} (${i.service_id})`],
    ['kind', i.kind, true],
    ['status', i.status, true],
    ['started', `${i.started_at} (${ago(i.started_at)})`],
    ['resolved', text(i.resolved_at)],
    ['duration', `${i.duration_seconds}s`],
    ['cause', text(i.cause)],
    ['failed checks', String(i.failed_checks)],
    ['acknowledged', text(i.acknowledged_at)],
    ['resolved by', text(i.resolved_by)],
    ['note', text(i.note)],
  ];
}

export const WEBHOOK_COLUMNS: Column<Webhook>[] = [
  { header: 'ID', value: (w) => w.webhook_id },
  { header: 'URL', value: (w) => w.url },
  { header: 'EVENTS', value: (w) => text(w.events) },
  { header: 'FORMAT', value: (w) => w.format },
  { header: 'ENABLED', value: (w) => (w.enabled ? 'yes' : 'no') },
  { header: 'FILTER', value: (w) => text([w.service_id, w.type, ...w.tags].filter(Boolean)) },
];

export function webhookFields(w: Webhook): [string, string, boolean?][] {
  return [
    ['id', w.webhook_id],
    ['url', w.url],
    ['events', text(w.events)],
    ['format', w.format],
    ['enabled', w.enabled ? 'yes' : 'no'],
    ['service', text(w.service_id)],
    ['type', text(w.type)],
    ['tags', text(w.tags)],
    ['secret', w.has_secret ? 'set' : '-'],
    ['description', text(w.description)],
  ];
}

export const DELIVERY_COLUMNS: Column<WebhookDelivery>[] = [
  { header: 'ID', value: (d) => d.delivery_id },
  { header: 'EVENT', value: (d) => d.event_type },
  { header: 'STATUS', value: (d) => d.status, tone: true },
  { header: 'ATTEMPTS', value: (d) => String(d.attempts) },
  { header: 'CODE', value: (d) => text(d.status_code) },
  { header: 'MS', value: (d) => text(d.latency_ms) },
  { header: 'WHEN', value: (d) => ago(d.event_at) },
  { header: 'ERROR', value: (d) => text(d.last_error) },
];

export const PING_COLUMNS: Column<HealthCheckEntry>[] = [
  { header: 'CHECKED', value: (p) => p.checked_at },
  { header: 'KIND', value: (p) => p.kind },
  { header: 'HEALTH', value: (p) => p.health, tone: true },
  { header: 'OUTCOME', value: (p) => p.outcome },
  { header: 'CODE', value: (p) => text(p.status_code) },
  { header: 'MS', value: (p) => String(p.response_time_ms) },
  { header: 'ERROR', value: (p) => text(p.error) },
];
