import type { HealthState, ProbeResult } from '@beacon/contracts';
import type { ServiceDraft, ServiceRecord } from './service-record';

/** The load must fall this far below the threshold before another critical-load alert can fire. */
export const CRITICAL_LOAD_HYSTERESIS = 0.1;

export interface ProbeOutcome {
  draft: ServiceDraft;
  /** The health before, when this result changed it. */
  healthChangedFrom: HealthState | null;
  /** The load that crossed the threshold upward, when this result did. */
  criticalLoad: number | null;
}

/**
 * Applies one check result to a record (pure; the store applies it atomically).
 * - Debounced: `health_check_retries` consecutive failures make it unhealthy, and
 *   `health_check_rise` consecutive passes bring it back; a single blip changes nothing.
 * - Smart TTL: a passing check extends `expires_at` by `ttl`, so checked services need
 *   no heartbeats (and an expired one comes back, as with a heartbeat).
 * - Critical load: crossing `threshold` upward alerts once; it re-arms only when the
 *   load falls below `threshold - CRITICAL_LOAD_HYSTERESIS`.
 * Returns null for a result that no longer applies: for a target the service no longer
 * has, or older than the last one applied (a result stamped after `now` counts as of `now`).
 */
export function applyProbe(current: ServiceRecord, result: ProbeResult, now: number, threshold: number): ProbeOutcome | null {
  const target = result.kind === 'http' ? current.health_check_url : current.health_check_tcp;
  if (target !== result.target) return null;
  // A prober whose clock runs ahead must not make every later result look stale: a result
  // from the future counts as checked now.
  const checkedAt = Math.min(Date.parse(result.checked_at), now);
  if (current.last_health_check !== null && checkedAt < current.last_health_check) return null;

  const next: ServiceDraft = { ...current, last_health_check: checkedAt, updated_at: now };
  if (result.ok) {
    next.consecutive_health_successes = current.consecutive_health_successes + 1;
    next.consecutive_health_failures = 0;
    const wasUp = current.health === 'healthy' || current.health === 'degraded';
    if (wasUp || next.consecutive_health_successes >= current.health_check_rise) next.health = result.health;
    next.expires_at = Math.max(current.expires_at, now + current.ttl * 1000);
  } else {
    next.consecutive_health_failures = current.consecutive_health_failures + 1;
    next.consecutive_health_successes = 0;
    if (next.consecutive_health_failures >= current.health_check_retries) next.health = 'unhealthy';
  }
  if (next.expires_at > now && current.status !== 'inactive') {
    next.status = next.health === 'unhealthy' ? 'unhealthy' : 'active';
  }

  let criticalLoad: number | null = null;
  if (result.load !== null) {
    next.load = result.load;
    if (result.load >= threshold && !current.critical_load_alerted) {
      next.critical_load_alerted = true;
      criticalLoad = result.load;
    } else if (result.load < threshold - CRITICAL_LOAD_HYSTERESIS) {
      next.critical_load_alerted = false;
    }
  }
  return { draft: next, healthChangedFrom: next.health === current.health ? null : current.health, criticalLoad };
}
