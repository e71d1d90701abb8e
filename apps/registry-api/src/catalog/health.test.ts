import type { ProbeResult } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { applyProbe } from './health';
import { BUILT_IN_DEFAULTS, draftRegistration } from './registration';
import type { ServiceRecord } from './service-record';

const NOW = Date.UTC(2030, 0, 1);
const URL = 'http://10.0.0.1/health';

const record = (overrides: Partial<ServiceRecord> = {}): ServiceRecord => ({
  ...draftRegistration({ name: 's', host: '10.0.0.1', port: 80, ttl: 60, health_check_url: URL }, null, NOW, BUILT_IN_DEFAULTS),
  revision: 1,
  ...overrides,
});

let clock = NOW;
const result = (overrides: Partial<ProbeResult> = {}): ProbeResult => {
  clock += 1000;
  return {
    service_id: 'x',
    kind: 'http',
    target: URL,
    ok: true,
    health: 'healthy',
    outcome: 'healthy',
    status_code: 200,
    response_time_ms: 3,
    load: null,
    error: null,
    checked_at: new Date(clock).toISOString(),
    prober_id: 'p',
    ...overrides,
  };
};
const failure = (): ProbeResult => result({ ok: false, health: 'unhealthy', outcome: 'error', status_code: null, error: 'ECONNREFUSED' });

/** Feeds results in order, as the registry applies them; returns the record and what each step reported. */
function run(start: ServiceRecord, results: ProbeResult[]): { current: ServiceRecord; changes: (string | null)[] } {
  let current = start;
  const changes: (string | null)[] = [];
  for (const each of results) {
    const outcome = applyProbe(current, each, Date.parse(each.checked_at), 0.8);
    if (!outcome) {
      changes.push('ignored');
      continue;
    }
    changes.push(outcome.healthChangedFrom === null ? null : `${outcome.healthChangedFrom}->${outcome.draft.health}`);
    current = { ...outcome.draft, revision: current.revision + 1 };
  }
  return { current, changes };
}

describe('applyProbe', () => {
  it('turns unhealthy only after retries consecutive failures, and one blip changes nothing', () => {
    const { current, changes } = run(record({ health: 'healthy' }), [failure(), result(), failure(), failure(), failure()]);
    expect(changes).toEqual([null, null, null, null, 'healthy->unhealthy']);
    expect([current.health, current.status]).toEqual(['unhealthy', 'unhealthy']);
  });

  it('recovers after rise consecutive passes, back to active', () => {
    const sick = record({ health: 'unhealthy', status: 'unhealthy', health_check_rise: 2 });
    const { current, changes } = run(sick, [result(), failure(), result(), result()]);
    expect(changes).toEqual([null, null, null, 'unhealthy->healthy']);
    expect([current.health, current.status]).toEqual(['healthy', 'active']);
  });

  it('reads degraded at once when the service says so, without leaving active', () => {
    const { current, changes } = run(record({ health: 'healthy' }), [result({ health: 'degraded', outcome: 'degraded' })]);
    expect(changes).toEqual(['healthy->degraded']);
    expect(current.status).toBe('active');
  });

  it('extends expires_at on a passing check (smart TTL) and revives an expired service', () => {
    const lapsed = record({ expires_at: NOW - 1, status: 'expired' });
    const passing = result();
    const outcome = applyProbe(lapsed, passing, Date.parse(passing.checked_at), 0.8);
    expect(outcome?.draft.expires_at).toBe(Date.parse(passing.checked_at) + 60_000);
    expect(outcome?.draft.status).toBe('active');
    const failing = failure();
    expect(applyProbe(lapsed, failing, Date.parse(failing.checked_at), 0.8)?.draft.status).toBe('expired');
  });

  it('keeps a service inactive whatever its checks say', () => {
    const { current } = run(record({ status: 'inactive' }), [failure(), failure(), failure(), result()]);
    expect(current.status).toBe('inactive');
  });

  it('ignores results for a target the service no longer has, and older results', () => {
    const current = record({ last_health_check: NOW + 10_000 });
    expect(applyProbe(current, result({ target: 'http://elsewhere/h' }), NOW, 0.8)).toBeNull();
    expect(applyProbe(current, result({ checked_at: new Date(NOW).toISOString() }), NOW, 0.8)).toBeNull();
  });

  it('counts a result stamped in the future as checked now, so the next results still apply', () => {
    const future = applyProbe(
      record(),
      result({ ok: false, health: 'unhealthy', outcome: 'error', checked_at: new Date(NOW + 3_600_000).toISOString() }),
      NOW,
      0.8,
    );
    expect(future?.draft.last_health_check).toBe(NOW);
    const next = { ...future!.draft, revision: 2 };
    expect(applyProbe(next, result({ checked_at: new Date(NOW + 1000).toISOString() }), NOW + 1000, 0.8)).not.toBeNull();
  });

  it('alerts critical load once per crossing, re-armed only below the hysteresis band', () => {
    const loads = [0.5, 0.85, 0.9, 0.75, 0.95, 0.6, 0.82];
    let current = record({ health: 'healthy' });
    const alerts: (number | null)[] = [];
    for (const load of loads) {
      const each = result({ load });
      const outcome = applyProbe(current, each, Date.parse(each.checked_at), 0.8);
      alerts.push(outcome?.criticalLoad ?? null);
      current = { ...(outcome?.draft ?? current), revision: current.revision + 1 };
    }
    expect(alerts).toEqual([null, 0.85, null, null, null, null, 0.82]);
    expect(current.load).toBe(0.82);
  });
});
