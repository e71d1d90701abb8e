import type { Incident, ProbeResult } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { applyProbe } from '../catalog/health';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../catalog/registration';
import type { ServiceRecord } from '../catalog/service-record';
import { causeOf, impliedKinds, incidentChanges, reminderDue, type ChangeContext } from './incident-rules';

const NOW = Date.UTC(2030, 0, 1);
const URL = 'http://10.0.0.1/health';
const THRESHOLD = 0.8;

const record = (overrides: Partial<ServiceRecord> = {}): ServiceRecord => ({
  ...draftRegistration(
    { name: 's', host: '10.0.0.1', port: 80, ttl: 60, health_check_url: URL, health_check_retries: 3 },
    null,
    NOW,
    BUILT_IN_DEFAULTS,
  ),
  revision: 1,
  ...overrides,
});

let ids = 0;
const context = (now: number, extra: Partial<ChangeContext> = {}): ChangeContext => ({
  now,
  threshold: THRESHOLD,
  newId: () => `id-${++ids}`,
  ...extra,
});

const result = (at: number, ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
  service_id: 'x',
  kind: 'http',
  target: URL,
  ok,
  health: ok ? 'healthy' : 'unhealthy',
  outcome: ok ? 'healthy' : 'error',
  status_code: ok ? 200 : 503,
  response_time_ms: 3,
  load: null,
  error: ok ? null : 'status 503',
  checked_at: new Date(at).toISOString(),
  prober_id: 'p',
  ...extra,
});

/** Applies check results in order through the real health rules, keeping incidents as a store would. */
function simulate(start: ServiceRecord, oks: boolean[]): { opened: Incident[]; resolved: Incident[]; open: Incident[] } {
  let current = start;
  let open: Incident[] = [];
  const opened: Incident[] = [];
  const resolved: Incident[] = [];
  oks.forEach((ok, index) => {
    const now = NOW + (index + 1) * 1000;
    const check = result(now, ok);
    const outcome = applyProbe(current, check, now, THRESHOLD);
    if (!outcome) return;
    current = { ...outcome.draft, revision: current.revision + 1 };
    const changes = incidentChanges(open, current, context(now, { check }));
    const closed = new Set(changes.resolved.map((incident) => incident.incident_id));
    const moved = new Map(changes.progressed.map((incident) => [incident.incident_id, incident]));
    open = [
      ...open.filter((incident) => !closed.has(incident.incident_id)).map((incident) => moved.get(incident.incident_id) ?? incident),
      ...changes.opened,
    ];
    opened.push(...changes.opened);
    resolved.push(...changes.resolved);
    expect(new Set(open.map((incident) => incident.kind)).size).toBe(open.length);
  });
  return { opened, resolved, open };
}

describe('incident rules', () => {
  it('implies down, expired and critical_load from the record alone', () => {
    expect([...impliedKinds(record(), NOW)]).toEqual([]);
    expect([...impliedKinds(record({ health: 'unhealthy' }), NOW)]).toEqual(['down']);
    expect([...impliedKinds(record({ expires_at: NOW }), NOW)]).toEqual(['expired']);
    expect([...impliedKinds(record({ critical_load_alerted: true }), NOW)]).toEqual(['critical_load']);
    expect(impliedKinds(null, NOW).size).toBe(0);
  });

  it('opens down only after the fall threshold, counts failures while open, and resolves after the rise', () => {
    const start = record({ health: 'healthy', health_check_rise: 2 });
    const early = simulate(start, [false, false]);
    expect(early.opened).toEqual([]);
    const { opened, resolved, open } = simulate(start, [false, false, false, false, false, true, true]);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ kind: 'down', status: 'open', cause: 'HTTP 503: status 503', status_code: 503, failed_checks: 3 });
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ status: 'resolved', resolved_by: 'auto', failed_checks: 5, note: 'health checks pass again' });
    expect(open).toEqual([]);
  });

  it('says the cause once in health-prober\'s own words (its error for a failing status is already "HTTP 503")', () => {
    const down = record({ health: 'unhealthy' });
    const check = (status_code: number | null, error: string | null) => ({ ok: false, status_code, error, load: null });
    // health-prober (checks/http-verdict.ts) sends these for a status, a body verdict and a refused connection.
    expect(causeOf('down', down, check(503, 'HTTP 503'), THRESHOLD)).toBe('HTTP 503');
    expect(causeOf('down', down, check(200, 'body status "down"'), THRESHOLD)).toBe('HTTP 200: body status "down"');
    expect(causeOf('down', down, check(null, 'connect ECONNREFUSED 127.0.0.1:9'), THRESHOLD)).toBe('connect ECONNREFUSED 127.0.0.1:9');
    expect(causeOf('down', down, check(500, null), THRESHOLD)).toBe('HTTP 500');
  });

  it('keeps the cause and status code of the same, last failing check', () => {
    const down = record({ health: 'unhealthy', consecutive_health_failures: 3 });
    const [open] = incidentChanges(
      [],
      down,
      context(NOW, { check: { ok: false, status_code: 503, error: 'HTTP 503', load: null } }),
    ).opened;
    const refused = { ok: false, status_code: null, error: 'connect ECONNREFUSED 127.0.0.1:9', load: null };
    const [moved] = incidentChanges([open as Incident], down, context(NOW + 1000, { check: refused })).progressed;
    expect(moved).toMatchObject({ cause: 'connect ECONNREFUSED 127.0.0.1:9', status_code: null, failed_checks: 4 });
  });

  it('flapping opens at most one down incident at a time', () => {
    const pattern = Array.from({ length: 200 }, (_, index) => index % 7 < 4);
    const { opened, resolved, open } = simulate(record({ health: 'healthy', health_check_retries: 1, health_check_rise: 1 }), pattern);
    expect(opened.length).toBeGreaterThan(1);
    expect(opened.length - resolved.length).toBe(open.length);
    expect(open.length).toBeLessThanOrEqual(1);
  });

  it('resolves everything open when the service is removed, saying why', () => {
    const open = incidentChanges([], record({ health: 'unhealthy', critical_load_alerted: true }), context(NOW)).opened;
    expect(open.map((incident) => incident.kind)).toEqual(['down', 'critical_load']);
    const { resolved, opened } = incidentChanges(open, null, context(NOW + 5000, { removal: 'deregistered' }));
    expect(opened).toEqual([]);
    expect(resolved.map((incident) => [incident.kind, incident.note, incident.duration_seconds])).toEqual([
      ['down', 'the service was deregistered', 5],
      ['critical_load', 'the service was deregistered', 5],
    ]);
  });

  it('opens expired on a lapsed TTL and resolves it when the record lives again', () => {
    const lapsed = record({ expires_at: NOW - 1, status: 'expired' });
    const [incident] = incidentChanges([], lapsed, context(NOW)).opened;
    expect(incident).toMatchObject({ kind: 'expired', cause: 'no heartbeat or passing check within its TTL of 60 s' });
    const revived = record({ expires_at: NOW + 60_000, status: 'active' });
    const { resolved } = incidentChanges([incident as Incident], revived, context(NOW + 1000));
    expect(resolved[0]).toMatchObject({ resolved_by: 'auto', status: 'resolved' });
  });

  it('marks what the reconcile opens and resolves', () => {
    const [incident] = incidentChanges([], record({ health: 'unhealthy' }), context(NOW, { reconcile: true })).opened;
    expect(incident?.note).toMatch(/reconcile/);
    const { resolved } = incidentChanges([incident as Incident], record(), context(NOW, { reconcile: true }));
    expect(resolved[0]?.note).toBe('resolved by reconcile: health checks pass again');
  });

  it('counts reminders per interval, none once acknowledged or with reminders off', () => {
    const [incident] = incidentChanges([], record({ health: 'unhealthy' }), context(NOW)).opened;
    expect(reminderDue(incident as Incident, NOW + 3599_000, 3600, null)).toBeNull();
    expect(reminderDue(incident as Incident, NOW + 7200_000, 3600, null)).toBe(2);
    expect(reminderDue(incident as Incident, NOW + 7200_000, 0, null)).toBeNull();
    expect(reminderDue({ ...(incident as Incident), acknowledged_at: new Date(NOW).toISOString() }, NOW + 7200_000, 3600, null)).toBeNull();
    // 100 reminders at 1 m, then the interval became 1 h: the next comes an hour after the last, not at hour 101.
    const ahead = { ...(incident as Incident), reminders: 100 };
    expect(reminderDue(ahead, NOW + 101 * 60_000 + 3599_000, 3600, NOW + 101 * 60_000)).toBeNull();
    expect(reminderDue(ahead, NOW + 101 * 60_000 + 3600_000, 3600, NOW + 101 * 60_000)).toBe(101);
    // On schedule, the last reminder changes nothing.
    expect(reminderDue({ ...(incident as Incident), reminders: 1 }, NOW + 7200_000, 3600, NOW + 3600_000)).toBe(2);
  });
});
