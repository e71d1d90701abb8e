import type { HealthCheckEntry } from './health-checks';
import type { LiveEventType } from './live';

/*
 * Monitoring's wire documents: incidents, uptime windows, raw check results ("pings",
 * seed 002), webhooks and their deliveries. registry-api owns and serves all of them;
 * realtime-gateway delivers webhooks (see `Subjects.webhook*`).
 */

/** Why a service is down: checks failing past the fall threshold, heartbeats stopped, or load at the critical threshold. */
export const INCIDENT_KINDS = ['down', 'expired', 'critical_load'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export const INCIDENT_STATUSES = ['open', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** `auto`: the service recovered (or was deregistered); `manual`: an operator resolved it. */
export type IncidentResolver = 'auto' | 'manual';

export interface Incident {
  incident_id: string;
  service_id: string;
  /** The service's name and type when the incident opened (kept after the service is gone). */
  service_name: string;
  service_type: string;
  kind: IncidentKind;
  status: IncidentStatus;
  started_at: string;
  resolved_at: string | null;
  /** Seconds from start to resolution, or to now while open. */
  duration_seconds: number;
  /** The last error, status code or load that kept it open, in words. */
  cause: string | null;
  /** The last failing check's HTTP status, when there was one. */
  status_code: number | null;
  /** Failed checks while it was open (the ones that opened it included). */
  failed_checks: number;
  acknowledged_at: string | null;
  resolved_by: IncidentResolver | null;
  /** The operator's note on resolve or acknowledge. */
  note: string | null;
  /** Reminders sent while it stayed open and unacknowledged. */
  reminders: number;
}

export interface IncidentList {
  incidents: Incident[];
  total: number;
  limit: number;
  skip: number;
}

/** Response-time percentiles of a window's checks, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One 5-minute window of a service's history. */
export interface UptimeWindow {
  /** Window start, ISO 8601 UTC, on a 5-minute boundary. */
  start: string;
  checks: number;
  failures: number;
  /** 0..1: passing checks over checks, or for a heartbeat-only service the share of the window it was not expired; null with no data. */
  availability: number | null;
  /** Null when the window had no check with a response time. */
  response_time_ms: LatencySummary | null;
}

export const UPTIME_PERIODS = ['1h', '24h', '7d', '30d'] as const;
export type UptimePeriod = (typeof UPTIME_PERIODS)[number];

/** `GET /api/v1/services/{id}/uptime`. */
export interface UptimeResponse {
  service_id: string;
  /** `checks` when the service has a health check, otherwise `heartbeats` (availability from active and expired time). */
  source: 'checks' | 'heartbeats';
  /** Percent 0..100 per period, null where nothing is known of it. */
  uptime: Record<UptimePeriod, number | null>;
  /** The windows of [from, to), oldest first. */
  from: string;
  to: string;
  windows: UptimeWindow[];
}

/** `GET /api/v1/services/{id}/pings`: raw check results, newest first. */
export interface PingsResponse {
  service_id: string;
  pings: HealthCheckEntry[];
  total: number;
}

/** What a webhook can subscribe to: the live feed's message names, or `*` for all of them. */
export const WEBHOOK_EVENT_TYPES = [
  'incident_opened',
  'incident_resolved',
  'incident_acknowledged',
  'service_registered',
  'service_deregistered',
  'service_expired',
  'health_status_changed',
  'critical_load',
] as const satisfies readonly LiveEventType[];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const WEBHOOK_ALL_EVENTS = '*';

/** Body formats: Beacon's own JSON, or the body each notification service's incoming webhook takes. */
export const WEBHOOK_FORMATS = ['generic', 'slack', 'discord', 'ntfy', 'gotify'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A webhook as the API shows it: the secret never, and credentials in the URL masked. */
export interface Webhook {
  webhook_id: string;
  url: string;
  events: (WebhookEventType | typeof WEBHOOK_ALL_EVENTS)[];
  format: WebhookFormat;
  /** Filters: only events about this service, type, or services carrying all these tags. */
  service_id: string | null;
  type: string | null;
  tags: string[];
  description: string | null;
  has_secret: boolean;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

/** A webhook as its deliverer needs it (on NATS, to realtime-gateway only): URL and secret in full. */
export interface WebhookTarget extends Omit<Webhook, 'has_secret'> {
  secret: string | null;
}

export const DELIVERY_STATUSES = ['delivered', 'retrying', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event's delivery to one webhook, as its log keeps it (the latest attempt's outcome). */
export interface WebhookDelivery {
  /** `<event id>:<webhook id>`: stable across attempts and replicas. */
  delivery_id: string;
  webhook_id: string;
  /** The event's live type, or `test` for `POST /webhooks/{id}/test`. */
  event_type: WebhookEventType | 'incident_reminder' | 'test';
  status: DeliveryStatus;
  attempts: number;
  status_code: number | null;
  last_error: string | null;
  /** The last attempt's round trip. */
  latency_ms: number | null;
  /** When the event happened. */
  event_at: string;
  updated_at: string;
}

/** One service's recent history for a dashboard row. */
export interface UptimeBar {
  service_id: string;
  /** Percent over the last 24 h, null when nothing is known. */
  uptime_24h: number | null;
  /** The last windows, oldest first: availability 0..1, or null where there was no data. */
  availability: (number | null)[];
  /** p50 response time per window in ms, null where there was none: the latency sparkline. */
  latency_p50: (number | null)[];
}

/** `GET /api/v1/uptime?windows=90`: every service's bar in one request (the dashboard's rows). */
export interface UptimeOverview {
  /** Seconds per window (300). */
  window_seconds: number;
  /** Start of the first window of every bar. */
  from: string;
  services: UptimeBar[];
}

/** One service on the status page. */
export interface StatusPageService {
  service_id: string;
  name: string;
  type: string;
  status: string;
  health: string;
  /** Percent over the days shown, null when nothing is known. */
  uptime: number | null;
  /** One entry per day of `StatusPage.days`: availability 0..1, or null with no data. */
  days: (number | null)[];
}

/** `GET /api/v1/status-page`: what the read-only status page at `/status` shows. */
export interface StatusPage {
  title: string;
  generated_at: string;
  /** The days shown, `YYYY-MM-DD` (UTC), oldest first (90 of them). */
  days: string[];
  services: StatusPageService[];
  /** Open incidents of the services shown. */
  incidents: Incident[];
}

/** `GET /api/v1/webhooks`: a page of webhooks, oldest first, as the API shows them. */
export interface WebhookList {
  webhooks: Webhook[];
  total: number;
  limit: number;
  skip: number;
}

/** `GET /api/v1/webhooks/{id}/deliveries`: the delivery log, newest first. */
export interface WebhookDeliveryList {
  deliveries: WebhookDelivery[];
}
