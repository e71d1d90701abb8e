import { Subjects, WIRE_VERSION, type Incident } from '@beacon/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvedIncident } from '../../incidents/incident-rules';
import type { IncidentFilter, IncidentOutboxEvent } from '../service-store';
import { incidentListSql, incidentWhere } from './sqlite-incidents';
import { SqliteStore } from './sqlite-store';

const NOW = Date.UTC(2030, 0, 1);
let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beacon-incidents-'));
  store = new SqliteStore({ path: join(dir, 'beacon.db'), synchronous: 'normal' });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const incident = (id: string, overrides: Partial<Incident> = {}): Incident => ({
  incident_id: id,
  service_id: 'svc',
  service_name: 'web',
  service_type: 'http',
  kind: 'down',
  status: 'open',
  started_at: new Date(NOW).toISOString(),
  resolved_at: null,
  duration_seconds: 0,
  cause: 'HTTP 503',
  status_code: 503,
  failed_checks: 3,
  acknowledged_at: null,
  resolved_by: null,
  note: null,
  reminders: 0,
  ...overrides,
});

const event = (subject: IncidentOutboxEvent['subject'], each: Incident): IncidentOutboxEvent =>
  ({
    subject,
    payload: {
      v: WIRE_VERSION,
      type: subject.slice('beacon.events.'.length),
      timestamp: each.started_at,
      revision: 1,
      incident: each,
      service: null,
    },
  }) as IncidentOutboxEvent;

describe('incidents in the SQLite store', () => {
  it('keeps one open incident per service and kind: a second opening is refused with its event', async () => {
    await store.commitIncidents([event(Subjects.incidentOpened, incident('a')), event(Subjects.incidentOpened, incident('b'))]);
    expect((await store.openIncidents()).map((each) => each.incident_id)).toEqual(['a']);
    expect((await store.outboxPage(10)).map((entry) => entry.subject)).toEqual([Subjects.incidentOpened]);
    // Another kind of the same service opens beside it.
    await store.commitIncidents([event(Subjects.incidentOpened, incident('c', { kind: 'critical_load' }))]);
    expect((await store.openIncidents()).length).toBe(2);
  });

  it('keeps a resolved incident final: a late acknowledge, progress or second resolve writes nothing and sends no event', async () => {
    await store.commitIncidents([event(Subjects.incidentOpened, incident('a'))]);
    const resolved = resolvedIncident(incident('a'), NOW + 60_000, 'auto', 'health checks pass again');
    await store.commitIncidents([event(Subjects.incidentResolved, resolved)]);
    const late = incident('a', { acknowledged_at: new Date(NOW + 61_000).toISOString() });
    await store.commitIncidents(
      [
        event(Subjects.incidentAcknowledged, late),
        event(Subjects.incidentResolved, resolvedIncident(late, NOW + 62_000, 'manual', 'again')),
      ],
      [incident('a', { failed_checks: 99 })],
    );
    expect(await store.getIncident('a')).toMatchObject({
      status: 'resolved',
      resolved_by: 'auto',
      failed_checks: 3,
      acknowledged_at: null,
    });
    expect(await store.openIncidents()).toEqual([]);
    expect((await store.outboxPage(10)).map((entry) => entry.subject)).toEqual([Subjects.incidentOpened, Subjects.incidentResolved]);
  });

  it('writes progress without an event, resolves with one, lists newest first, and trims past retention', async () => {
    await store.commitIncidents([event(Subjects.incidentOpened, incident('a'))]);
    await store.commitIncidents([], [incident('a', { failed_checks: 9 })]);
    expect((await store.getIncident('a'))?.failed_checks).toBe(9);
    const resolved = resolvedIncident(incident('a', { failed_checks: 9 }), NOW + 60_000, 'manual', 'fixed');
    await store.commitIncidents([event(Subjects.incidentResolved, resolved)]);
    expect(await store.getIncident('a')).toMatchObject({ status: 'resolved', duration_seconds: 60, note: 'fixed' });
    // A new opening for the same kind is allowed once the first is resolved.
    await store.commitIncidents([event(Subjects.incidentOpened, incident('b', { started_at: new Date(NOW + 120_000).toISOString() }))]);
    const list = await store.listIncidents({}, { limit: 10, skip: 0 });
    expect(list.incidents.map((each) => each.incident_id)).toEqual(['b', 'a']);
    expect((await store.listIncidents({ status: 'resolved' }, { limit: 10, skip: 0 })).total).toBe(1);
    expect((await store.listIncidents({ since: NOW + 1 }, { limit: 10, skip: 0 })).total).toBe(1);
    expect(await store.trimIncidents(NOW + 60_001, 100)).toBe(1);
    expect(await store.getIncident('a')).toBeNull();
    expect(await store.getIncident('b')).not.toBeNull();
  });

  it('answers every filter of the route from an index: no statement reads the whole table', () => {
    const { db } = store.handle as { backend: 'sqlite'; db: import('better-sqlite3').Database };
    const filters: IncidentFilter[] = [
      {},
      { status: 'open' },
      { status: 'resolved' },
      { service_id: 'svc' },
      { service_id: 'svc', status: 'open' },
      { service_id: 'svc', status: 'resolved' },
      { kind: 'down' },
      { kind: 'down', status: 'open' },
      { since: NOW },
    ];
    for (const filter of filters) {
      const { sql, params } = incidentWhere(filter);
      const { count, page } = incidentListSql(sql);
      const plans = [
        ...(db.prepare(`EXPLAIN QUERY PLAN ${count}`).all(...params) as { detail: string }[]),
        ...(db.prepare(`EXPLAIN QUERY PLAN ${page}`).all(...params, 50, 0) as { detail: string }[]),
      ].map((row) => row.detail);
      // A bare "SCAN incidents" (no index named) reads every document.
      expect(
        plans.filter((detail) => /^SCAN incidents$/.test(detail)),
        JSON.stringify(filter),
      ).toEqual([]);
      if (filter.status === 'open' || filter.service_id !== undefined) {
        // These reach their rows directly rather than walking every incident in start order.
        expect(
          plans.some((detail) => detail.includes('incidents_by_start')),
          JSON.stringify(filter),
        ).toBe(false);
      }
    }
  });
});
