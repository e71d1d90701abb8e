import {
  DEFAULTS,
  PATCHABLE_FIELDS,
  mdnsServiceTypeFor,
  type PatchableField,
  type RegisterServiceDto,
  type UpdateServiceDto,
} from '@beacon/contracts';
import { randomUUID } from 'node:crypto';
import type { ServiceDraft, ServiceRecord } from './service-record';

/** Pure rules for turning requests into records; the store applies them atomically. */

/** What a registration that leaves these out gets (configured: BEACON_DEFAULT_TTL, BEACON_HEALTH_CHECK_*). */
export interface RegistrationDefaults {
  ttl: number;
  healthCheckInterval: number;
  healthCheckTimeout: number;
}

/** Beacon's own defaults (the configuration's, when nothing overrides them). */
export const BUILT_IN_DEFAULTS: RegistrationDefaults = {
  ttl: DEFAULTS.ttl,
  healthCheckInterval: DEFAULTS.healthCheckInterval,
  healthCheckTimeout: DEFAULTS.healthCheckTimeout,
};

function uniqueTags(tags: readonly string[] | undefined): string[] {
  return [...new Set(tags ?? [])];
}

/** The status a live record should have given its health (unhealthy checks rule). */
function liveStatus(current: Pick<ServiceRecord, 'status' | 'health'>): ServiceRecord['status'] {
  if (current.status === 'inactive') return 'inactive';
  return current.health === 'unhealthy' ? 'unhealthy' : 'active';
}

/**
 * The record a registration produces. A re-registration (same identity) keeps the
 * record's id, creation time and observed health, and takes every configurable field
 * from the new request: a registration states the whole service.
 */
export function draftRegistration(
  input: RegisterServiceDto,
  existing: ServiceRecord | null,
  now: number,
  defaults: RegistrationDefaults,
): ServiceDraft {
  const metadata = input.metadata ?? {};
  const type = input.type ?? DEFAULTS.type;
  const ttl = input.ttl ?? defaults.ttl;
  const healthTarget = input.health_check_url ?? null;
  const tcpTarget = input.health_check_tcp ?? null;
  const sameChecks = existing !== null && existing.health_check_url === healthTarget && existing.health_check_tcp === tcpTarget;
  const health = sameChecks ? existing.health : 'unknown';
  return {
    service_id: existing?.service_id ?? randomUUID(),
    name: input.name,
    type,
    host: input.host,
    port: input.port,
    protocol: input.protocol ?? DEFAULTS.protocol,
    tags: uniqueTags(input.tags),
    metadata,
    version: input.version ?? metadata.version ?? null,
    node_id: input.node_id ?? null,
    instance_id: input.instance_id ?? existing?.instance_id ?? null,
    status: liveStatus({ status: 'active', health }),
    health,
    ttl,
    expires_at: now + ttl * 1000,
    last_heartbeat: now,
    created_at: existing?.created_at ?? now,
    updated_at: now,
    health_check_url: healthTarget,
    health_check_tcp: tcpTarget,
    health_check_interval: input.health_check_interval ?? defaults.healthCheckInterval,
    health_check_timeout: input.health_check_timeout ?? defaults.healthCheckTimeout,
    health_check_retries: input.health_check_retries ?? DEFAULTS.healthCheckRetries,
    health_check_rise: input.health_check_rise ?? DEFAULTS.healthCheckRise,
    last_health_check: sameChecks ? existing.last_health_check : null,
    consecutive_health_failures: sameChecks ? existing.consecutive_health_failures : 0,
    consecutive_health_successes: sameChecks ? existing.consecutive_health_successes : 0,
    critical_load_alerted: sameChecks ? existing.critical_load_alerted : false,
    load: sameChecks ? existing.load : null,
    mdns_service_type: input.mdns_service_type ?? mdnsServiceTypeFor(type),
    mdns_txt_records: input.mdns_txt_records ?? {},
  };
}

/** A heartbeat: extends `expires_at` by `ttl` (or the given one); revives an expired record. */
export function draftHeartbeat(current: ServiceRecord, ttlSeconds: number | undefined, now: number): ServiceDraft {
  return {
    ...current,
    status: liveStatus(current),
    expires_at: now + (ttlSeconds ?? current.ttl) * 1000,
    last_heartbeat: now,
    updated_at: now,
  };
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A partial update, or null when it changes nothing. `null` clears optional fields;
 * `expires_at` is left alone (only heartbeats, registrations and passing checks extend it),
 * so an expired record stays expired.
 */
export function draftUpdate(current: ServiceRecord, patch: UpdateServiceDto, now: number): ServiceDraft | null {
  const next: ServiceDraft = { ...current };
  const writable = next as unknown as Record<PatchableField, unknown>;
  for (const field of PATCHABLE_FIELDS) {
    const value = patch[field];
    if (value !== undefined) writable[field] = field === 'tags' ? uniqueTags(value as string[]) : value;
  }
  if (patch.type !== undefined && patch.mdns_service_type === undefined && current.mdns_service_type === mdnsServiceTypeFor(current.type)) {
    // The mDNS type followed the old type, so it follows the new one.
    next.mdns_service_type = mdnsServiceTypeFor(next.type);
  }
  if (patch.mdns_service_type === null) next.mdns_service_type = mdnsServiceTypeFor(next.type);
  if (patch.status !== undefined) {
    next.status = liveStatus({ status: patch.status, health: current.health });
  }
  if (next.health_check_url !== current.health_check_url || next.health_check_tcp !== current.health_check_tcp) {
    next.health = 'unknown';
    next.consecutive_health_failures = 0;
    next.consecutive_health_successes = 0;
    next.critical_load_alerted = false;
    next.last_health_check = null;
    next.load = null;
    if (next.status === 'unhealthy') next.status = 'active';
  }
  const changed = (Object.keys(next) as (keyof ServiceDraft)[]).some((key) => !sameValue(next[key], current[key]));
  if (!changed) return null;
  next.updated_at = now;
  return next;
}
