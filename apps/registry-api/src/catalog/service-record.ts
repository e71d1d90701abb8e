import type { Service, ServiceStatus } from '@beacon/contracts';

/** Wire timestamps the store keeps as epoch milliseconds (easy to compare and index). */
type Timestamps = 'expires_at' | 'last_heartbeat' | 'created_at' | 'updated_at' | 'last_health_check';

/**
 * A service as the store keeps it: the wire shape with timestamps as epoch milliseconds,
 * the stored status (the wire shows the effective one), and the prober's success streak.
 * Adapters read and write exactly this.
 */
export interface ServiceRecord extends Omit<Service, Timestamps> {
  expires_at: number;
  last_heartbeat: number | null;
  created_at: number;
  updated_at: number;
  last_health_check: number | null;
  /** Consecutive passing checks, for `health_check_rise`. */
  consecutive_health_successes: number;
  /** A critical-load alert was sent and not yet re-armed by the load falling back. */
  critical_load_alerted: boolean;
}

/** A record before the store assigns its revision. */
export type ServiceDraft = Omit<ServiceRecord, 'revision'>;

/**
 * What clients see: a record past `expires_at` reads `expired` even before the reaper
 * has marked it. `status: 'expired'` is only ever stored once `expires_at` has passed,
 * so "expired" is exactly "`expires_at` <= now" (stores filter on that).
 */
export function effectiveStatus(record: Pick<ServiceRecord, 'status' | 'expires_at'>, now: number): ServiceStatus {
  return record.expires_at <= now ? 'expired' : record.status;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/**
 * Wire forms by record: records never change once stored (every write makes a new one),
 * so each is converted once, however often it is listed.
 */
const wireForms = new WeakMap<ServiceRecord, Service>();

export function toWire(record: ServiceRecord, now: number): Service {
  let wire = wireForms.get(record);
  if (!wire) {
    wire = convert(record);
    wireForms.set(record, wire);
  }
  const status = effectiveStatus(record, now);
  return status === wire.status ? wire : { ...wire, status };
}

function convert(record: ServiceRecord): Service {
  return {
    service_id: record.service_id,
    name: record.name,
    type: record.type,
    host: record.host,
    port: record.port,
    protocol: record.protocol,
    tags: record.tags,
    metadata: record.metadata,
    version: record.version,
    node_id: record.node_id,
    instance_id: record.instance_id,
    status: record.status,
    health: record.health,
    ttl: record.ttl,
    expires_at: iso(record.expires_at),
    last_heartbeat: isoOrNull(record.last_heartbeat),
    created_at: iso(record.created_at),
    updated_at: iso(record.updated_at),
    health_check_url: record.health_check_url,
    health_check_tcp: record.health_check_tcp,
    health_check_interval: record.health_check_interval,
    health_check_timeout: record.health_check_timeout,
    health_check_retries: record.health_check_retries,
    health_check_rise: record.health_check_rise,
    last_health_check: isoOrNull(record.last_health_check),
    consecutive_health_failures: record.consecutive_health_failures,
    load: record.load,
    mdns_service_type: record.mdns_service_type,
    mdns_txt_records: record.mdns_txt_records,
    revision: record.revision,
  };
}
