import { HEALTH_STATES, INCIDENT_KINDS, INCIDENT_STATUSES, PROBE_OUTCOMES, SERVICE_SCHEMA, SERVICE_STATUSES } from '@beacon/contracts';
import type { ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * The response bodies of `/api/docs-json` (`components.schemas`). `Service` comes from the
 * record's declaration in libs/contracts; the rest are written here, and
 * test/openapi.test.ts checks every one against its libs/contracts type through a client
 * generated from the served document.
 */

type Schema = SchemaObject | ReferenceObject;

export const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
const text = (extra: SchemaObject = {}): SchemaObject => ({ type: 'string', ...extra });
const integer = (description?: string): SchemaObject => ({ type: 'integer', ...(description ? { description } : {}) });
const number: SchemaObject = { type: 'number' };
const boolean: SchemaObject = { type: 'boolean' };
const timestamp: SchemaObject = { type: 'string', format: 'date-time' };
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const oneOf = (values: readonly string[], description?: string): SchemaObject => ({
  type: 'string',
  enum: [...values],
  ...(description ? { description } : {}),
});
const orNull = (schema: SchemaObject): SchemaObject => ({ ...schema, nullable: true });
const listOf = (items: Schema): SchemaObject => ({ type: 'array', items });
const mapOf = (values: Schema): SchemaObject => ({ type: 'object', additionalProperties: values });

/** An object whose properties are all present unless named in `optional`. */
function object(properties: Record<string, Schema>, options: { optional?: string[]; description?: string } = {}): SchemaObject {
  const optional = new Set(options.optional ?? []);
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((name) => !optional.has(name)),
    ...(options.description ? { description: options.description } : {}),
  };
}

const countsOf = (keys: readonly string[], description: string): SchemaObject => ({
  ...object(Object.fromEntries(keys.map((key) => [key, integer()]))),
  description,
});

const HEALTH_CHECK_ENTRY = {
  checked_at: timestamp,
  kind: oneOf(['http', 'tcp']),
  health: oneOf(HEALTH_STATES),
  outcome: oneOf(PROBE_OUTCOMES),
  status_code: orNull(integer()),
  response_time_ms: number,
  load: { ...orNull(number), description: 'load_percentage from a JSON body, 0.0–1.0' },
  error: orNull(text()),
};

const INCIDENT = object({
  incident_id: uuid,
  service_id: uuid,
  service_name: text({ description: 'the service name when the incident opened' }),
  service_type: text(),
  kind: oneOf(
    INCIDENT_KINDS,
    'down: checks failing past the fall threshold; expired: TTL lapsed; critical_load: load at or over the threshold',
  ),
  status: oneOf(INCIDENT_STATUSES),
  started_at: timestamp,
  resolved_at: orNull(timestamp),
  duration_seconds: integer('to resolution, or to now while open'),
  cause: orNull(text({ description: 'the last error, status code or load, in words' })),
  status_code: orNull(integer()),
  failed_checks: integer('failed checks while open'),
  acknowledged_at: orNull(timestamp),
  resolved_by: { ...orNull(oneOf(['auto', 'manual'])) },
  note: orNull(text()),
  reminders: integer('incident.reminder events sent while open and unacknowledged'),
});

const LATENCY = object({ p50: number, p95: number, p99: number, max: number }, { description: 'response time in ms' });
const availability: SchemaObject = { ...orNull(number), description: '0..1, null with no data' };
const percent: SchemaObject = { ...orNull(number), description: 'percent 0..100, null when nothing is known' };

/** Monitoring's bodies: incidents, uptime, pings, the dashboard overview and the status page. */
const MONITORING_SCHEMAS: Record<string, Schema> = {
  Incident: INCIDENT,
  IncidentList: object({ incidents: listOf(ref('Incident')), total: integer(), limit: integer(), skip: integer() }),
  LatencySummary: LATENCY,
  UptimeWindow: object({
    start: timestamp,
    checks: integer(),
    failures: integer(),
    availability,
    // A $ref's siblings are ignored in OpenAPI 3.0: nullable needs the reference wrapped.
    response_time_ms: { allOf: [ref('LatencySummary')], nullable: true },
  }),
  Uptime: object({
    service_id: uuid,
    source: oneOf(['checks', 'heartbeats']),
    uptime: object({ '1h': percent, '24h': percent, '7d': percent, '30d': percent }),
    from: timestamp,
    to: timestamp,
    windows: { ...listOf(ref('UptimeWindow')), description: 'stored windows of [from, to), oldest first' },
  }),
  Pings: object({ service_id: uuid, pings: { ...listOf(ref('HealthCheckEntry')), description: 'newest first' }, total: integer() }),
  UptimeBar: object({
    service_id: uuid,
    uptime_24h: percent,
    availability: listOf(availability),
    latency_p50: listOf(orNull(number)),
  }),
  UptimeOverview: object({ window_seconds: integer(), from: timestamp, services: listOf(ref('UptimeBar')) }),
  StatusPageService: object({
    service_id: uuid,
    name: text(),
    type: text(),
    status: text(),
    health: text(),
    uptime: percent,
    days: listOf(availability),
  }),
  StatusPage: object({
    title: text(),
    generated_at: timestamp,
    days: listOf(text({ description: 'YYYY-MM-DD (UTC)' })),
    services: listOf(ref('StatusPageService')),
    incidents: listOf(ref('Incident')),
  }),
};

export const RESPONSE_SCHEMAS: Record<string, Schema> = {
  ...MONITORING_SCHEMAS,
  Service: SERVICE_SCHEMA,
  ServiceList: object({ services: listOf(ref('Service')), total: integer(), page: integer('skip / limit + 1'), page_size: integer() }),
  Discover: object({
    services: listOf(ref('Service')),
    total: integer(),
    filters_applied: { ...mapOf(text()), description: 'the filters used (tags comma-joined, metadata as metadata.<key>)' },
    discovery_method: oneOf(['api']),
  }),
  ExpiredList: object({ services: listOf(ref('Service')), total: integer() }),
  Heartbeat: object({
    service_id: uuid,
    status: oneOf(SERVICE_STATUSES),
    expires_at: timestamp,
    last_heartbeat: timestamp,
    message: oneOf(['Heartbeat received successfully']),
  }),
  Cleanup: object({ removed_count: integer(), message: text({ example: 'Removed 2 expired services' }) }),
  StringList: listOf(text()),
  HealthCheckEntry: object(HEALTH_CHECK_ENTRY),
  HealthChecks: object({ service_id: uuid, checks: { ...listOf(ref('HealthCheckEntry')), description: 'newest first' }, total: integer() }),
  ProbeResult: object({
    service_id: uuid,
    ...HEALTH_CHECK_ENTRY,
    target: text({ description: 'the URL or host:port checked' }),
    ok: boolean,
    prober_id: text(),
  }),
  CheckNow: object({ result: ref('ProbeResult'), service: ref('Service') }),
  RegistryHealth: object({
    status: oneOf(['healthy', 'degraded', 'unhealthy']),
    message: text(),
    version: text(),
    uptime: number,
    timestamp,
    services: object({ total: integer(), ...Object.fromEntries(SERVICE_STATUSES.map((status) => [status, integer()])) }),
    mdns: {
      oneOf: [
        object({ running: boolean, registered_services: integer(), domain: text() }),
        object(
          { running: oneOf(['unknown']), registered_services: { nullable: true, enum: [null] }, domain: { nullable: true, enum: [null] } },
          { description: 'mdns-announcer did not answer' },
        ),
      ],
    },
    database: object({ connected: boolean, ping_ms: orNull(number), backend: oneOf(['sqlite', 'mongodb']) }),
    nats: object({ connected: boolean }),
    memory: object({ used_mb: integer(), cache_size: integer('service records held in memory') }),
  }),
  Readiness: object({ status: oneOf(['ready', 'not_ready']), checks: mapOf(boolean) }),
  Liveness: object({ status: oneOf(['ok']), app: text(), version: text(), uptime: number }),
  Alive: object({ status: oneOf(['alive']) }),
  RegistryStats: object({
    revision: integer('catalog revision the counts were read at (or after)'),
    services: object({
      total: integer(),
      by_status: countsOf(SERVICE_STATUSES, 'effective status; every status present'),
      by_health: countsOf(HEALTH_STATES, 'last observed health; every state present'),
      by_type: mapOf(integer()),
    }),
    checks_last_minute: integer('stored check results with checked_at in the last 60 s (store-backed)'),
    events_last_minute: integer(
      "catalog events (beacon.events.service.*, every replica's) this replica received in the last 60 s; counted in memory since it started",
    ),
    generated_at: timestamp,
  }),
  /** Seed 004's instance view (`/v1/discovery`). */
  DiscoveryInstance: object({
    service_id: { ...uuid, description: 'the same record as /api/v1/services/{service_id}' },
    service_name: text(),
    instance_id: text(),
    host: text(),
    port: integer(),
    health_endpoint: orNull(text({ description: 'the registered path; null without a check or for a URL set through /api/v1 elsewhere' })),
    health_check_url: orNull(text()),
    metadata: mapOf(text()),
    status: oneOf(SERVICE_STATUSES),
    health: oneOf(HEALTH_STATES),
    healthy: { ...boolean, description: 'listed by /services/{service_name}/healthy' },
    load_percentage: { ...orNull(number), description: 'last load_percentage a check reported, 0.0–1.0' },
    registered_at: timestamp,
    updated_at: timestamp,
    last_heartbeat: orNull(timestamp),
    last_health_check: orNull(timestamp),
    expires_at: timestamp,
    ttl: integer(),
  }),
  DiscoveryServices: object({
    services: { ...mapOf(listOf(ref('DiscoveryInstance'))), description: 'instances by service name' },
    total_services: integer(),
    total_instances: integer(),
  }),
  DiscoveryInstances: object({ service_name: text(), instances: listOf(ref('DiscoveryInstance')), total: integer() }),
  DiscoveryHeartbeat: object({
    message: oneOf(['Heartbeat received successfully']),
    service_id: uuid,
    service_name: text(),
    instance_id: text(),
    status: oneOf(SERVICE_STATUSES),
    expires_at: timestamp,
    last_heartbeat: timestamp,
  }),
  DiscoveryUnregister: object({
    message: oneOf(['Service unregistered successfully']),
    service_id: uuid,
    service_name: text(),
    instance_id: text(),
  }),
  Error: object(
    {
      detail: text({ description: 'a sentence saying what went wrong' }),
      errors: listOf(object({ field: text({ description: 'dotted path: metadata.rack, tags.2' }), message: text() })),
    },
    { optional: ['errors'] },
  ),
};
