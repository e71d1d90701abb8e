import { EVENTS_STREAM, type Incident, type IncidentList, type Service } from '@beacon/contracts';
import {
  fetchJson,
  sleep,
  startApp,
  startNatsServer,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import Database from 'better-sqlite3';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failing, healthy, startHealthTarget, type HealthTarget } from './health-target';

/**
 * Incidents on real processes: registry-api on an SQLite file, nats-server, health-prober
 * checking an HTTP target on loopback that the test makes fail and recover, and
 * ttl-reaper expiring heartbeat-only services. Reminders repeat every 2 s here.
 */

const INTERVAL = 1;
const FALL = 3;
const REPEAT = 2;

let nats: NatsServerHandle;
let registry: RegistryFixture;
let prober: AppProcess;
let reaper: AppProcess;
let target: HealthTarget;

beforeAll(async () => {
  target = await startHealthTarget();
  nats = await startNatsServer();
  registry = await startRegistry({ nats, env: { BEACON_INCIDENT_REPEAT_INTERVAL: `${REPEAT}s`, CRITICAL_LOAD_THRESHOLD: '0.8' } });
  prober = await startApp('health-prober', { env: { NATS_URL: nats.url, BEACON_RESYNC_INTERVAL: '1' }, portVariable: 'HTTP_PORT' });
  reaper = await startApp('ttl-reaper', { env: { NATS_URL: nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' });
});

afterAll(async () => {
  await reaper?.stop();
  await prober?.stop();
  await registry?.dispose();
  await nats?.dispose();
  await target?.close();
});

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetchJson<T>(method, `${registry.base}${path}`, body);
  return { status: response.status, body: response.body };
}

const incidentsOf = async (serviceId: string, status?: 'open' | 'resolved'): Promise<Incident[]> => {
  const query = status ? `&status=${status}` : '';
  const answer = await call<IncidentList>('GET', `/incidents?service_id=${serviceId}${query}&limit=500`);
  expect(answer.status).toBe(200);
  return answer.body.incidents;
};

function registerChecked(path: string, extra: Record<string, unknown> = {}): Promise<Service> {
  return registry.register({
    name: uniqueName('incident'),
    host: target.host,
    port: target.port,
    health_check_url: `http://${target.host}:${target.port}${path}`,
    health_check_interval: INTERVAL,
    health_check_retries: FALL,
    health_check_rise: 1,
    ...extra,
  });
}

const healthOf = async (serviceId: string): Promise<string> => (await call<Service>('GET', `/services/${serviceId}`)).body.health;

/** Incident events in BEACON_EVENTS, read from the start as realtime-gateway reads them. */
async function storedIncidentEvents(): Promise<{ type: string; incident: Incident }[]> {
  const connection = await connect({ servers: nats.url, ...nats.credentials('realtime-gateway') });
  try {
    const consumer = await connection.jetstream().consumers.get(EVENTS_STREAM);
    const events: { type: string; incident: Incident }[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      let received = 0;
      for await (const message of batch) {
        received += 1;
        const body = message.json<{ type: string; incident?: Incident }>();
        if (body.incident) events.push({ type: body.type, incident: body.incident });
      }
      if (received === 0) return events;
    }
  } finally {
    await connection.close();
  }
}

describe('incidents from health checks', () => {
  it(`opens a down incident within fall × interval + 1 s of the first failing check, and resolves it on recovery`, async () => {
    target.set('/down', healthy(0.1));
    const service = await registerChecked('/down');
    await waitFor('healthy', async () => ((await healthOf(service.service_id)) === 'healthy' ? true : undefined));
    target.set('/down', failing);
    const [incident] = await waitFor('a down incident', async () => {
      const open = await incidentsOf(service.service_id, 'open');
      return open.length > 0 ? open : undefined;
    });
    expect(incident).toMatchObject({ kind: 'down', status: 'open', service_name: service.name, status_code: 500, resolved_at: null });
    // In health-prober's words, once (it read "HTTP 500: HTTP 500").
    expect(incident?.cause).toBe('HTTP 500');
    const pings = await call<{ checks: { checked_at: string; outcome: string }[] }>(
      'GET',
      `/services/${service.service_id}/health-checks?limit=100`,
    );
    const firstFailure = pings.body.checks.filter((check) => check.outcome !== 'healthy').at(-1);
    expect(firstFailure).toBeDefined();
    const lag = Date.parse(incident?.started_at ?? '') - Date.parse(firstFailure?.checked_at ?? '');
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThanOrEqual((FALL * INTERVAL + 1) * 1000);
    expect(incident?.failed_checks).toBeGreaterThanOrEqual(FALL);

    target.set('/down', healthy(0.1));
    const resolved = await waitFor('resolved on recovery', async () => {
      const all = await incidentsOf(service.service_id);
      return all.length === 1 && all[0]?.status === 'resolved' ? all[0] : undefined;
    });
    expect(resolved).toMatchObject({ incident_id: incident?.incident_id, resolved_by: 'auto', note: 'health checks pass again' });
    expect(resolved.duration_seconds).toBeGreaterThanOrEqual(1);
    const stored = await waitFor('both events in BEACON_EVENTS', async () => {
      const events = (await storedIncidentEvents()).filter((event) => event.incident.incident_id === incident?.incident_id);
      return events.some((event) => event.type === 'incident.resolved') ? events : undefined;
    });
    expect(stored.map((event) => event.type).filter((type) => type !== 'incident.reminder')).toEqual([
      'incident.opened',
      'incident.resolved',
    ]);
  });

  it('never shows two open incidents of a kind while a target flaps', async () => {
    target.set('/flap', healthy(0.1));
    const service = await registerChecked('/flap', { health_check_retries: 1 });
    const deadline = Date.now() + 12_000;
    let up = false;
    let flips = 0;
    while (Date.now() < deadline) {
      target.set('/flap', up ? healthy(0.1) : failing);
      up = !up;
      flips += 1;
      for (let poll = 0; poll < 6; poll += 1) {
        const open = await incidentsOf(service.service_id, 'open');
        expect(open.filter((incident) => incident.kind === 'down').length).toBeLessThanOrEqual(1);
        await sleep(250);
      }
    }
    target.set('/flap', healthy(0.1));
    const all = await waitFor('every flap resolved', async () => {
      const list = await incidentsOf(service.service_id);
      return list.length > 0 && list.every((incident) => incident.status === 'resolved') ? list : undefined;
    });
    expect(flips).toBeGreaterThan(4);
    expect(all.length).toBeGreaterThanOrEqual(2);
  });

  it('opens critical_load at the threshold and resolves it when load falls back', async () => {
    target.set('/load', healthy(0.95));
    const service = await registerChecked('/load');
    const open = await waitFor('critical_load open', async () => {
      const list = await incidentsOf(service.service_id, 'open');
      return list.find((incident) => incident.kind === 'critical_load');
    });
    expect(open.cause).toContain('0.95');
    target.set('/load', healthy(0.1));
    await waitFor('critical_load resolved', async () => {
      const list = await incidentsOf(service.service_id);
      return list.length === 1 && list[0]?.status === 'resolved' ? true : undefined;
    });
  });

  it('resolves open incidents when the service is deregistered', async () => {
    target.set('/gone', failing);
    const service = await registerChecked('/gone');
    await waitFor('down open', async () => ((await incidentsOf(service.service_id, 'open')).length === 1 ? true : undefined));
    expect((await call('DELETE', `/services/${service.service_id}`)).status).toBe(204);
    const [incident] = await incidentsOf(service.service_id);
    expect(incident).toMatchObject({ status: 'resolved', resolved_by: 'auto', note: 'the service was deregistered' });
  });
});

describe('incidents of heartbeat-only services', () => {
  it('opens expired when the TTL lapses and resolves it with a heartbeat', async () => {
    const service = await registry.register({ name: uniqueName('beat'), host: '10.9.0.1', port: 80, ttl: 10 });
    const incident = await waitFor(
      'expired open',
      async () => (await incidentsOf(service.service_id, 'open')).find((each) => each.kind === 'expired'),
      30_000,
    );
    expect(incident.cause).toContain('TTL of 10 s');
    expect((await call('PUT', `/services/${service.service_id}/heartbeat`)).status).toBe(200);
    const [resolved] = await incidentsOf(service.service_id);
    expect(resolved).toMatchObject({ incident_id: incident.incident_id, status: 'resolved', resolved_by: 'auto' });
  });
});

describe('operators and reminders', () => {
  it('repeats reminders while unacknowledged, stops them on acknowledge, and resolves by hand', async () => {
    target.set('/ops', failing);
    const service = await registerChecked('/ops');
    const open = await waitFor('down open', async () => (await incidentsOf(service.service_id, 'open'))[0]);
    const reminded = await waitFor(
      'two reminders',
      async () => {
        const current = (await call<Incident>('GET', `/incidents/${open.incident_id}`)).body;
        return current.reminders >= 2 ? current : undefined;
      },
      15_000,
    );
    expect(reminded.reminders).toBeGreaterThanOrEqual(2);

    const acked = await call<Incident>('POST', `/incidents/${open.incident_id}/acknowledge`, { note: 'looking' });
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ status: 'open', note: 'looking' });
    expect(acked.body.acknowledged_at).not.toBeNull();
    const again = await call<{ detail: string }>('POST', `/incidents/${open.incident_id}/acknowledge`);
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('already acknowledged');
    await sleep((REPEAT + 1) * 1000 * 2);
    const quiet = (await call<Incident>('GET', `/incidents/${open.incident_id}`)).body;
    expect(quiet.reminders).toBe(acked.body.reminders);
    const reminders = (await storedIncidentEvents()).filter(
      (event) => event.type === 'incident.reminder' && event.incident.incident_id === open.incident_id,
    );
    expect(reminders.length).toBe(acked.body.reminders);

    const resolved = await call<Incident>('POST', `/incidents/${open.incident_id}/resolve`, { note: 'fixed the disk' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolved_by: 'manual', note: 'fixed the disk' });
    const twice = await call<{ detail: string }>('POST', `/incidents/${open.incident_id}/resolve`);
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toContain('already resolved');
    expect((await call('POST', `/incidents/${open.incident_id}/acknowledge`)).status).toBe(409);
    // Still failing: a new incident opens (at the next check), not the old one again.
    const reopened = await waitFor('a new down incident', async () => (await incidentsOf(service.service_id, 'open'))[0], 15_000);
    expect(reopened.incident_id).not.toBe(open.incident_id);
    await call('DELETE', `/services/${service.service_id}`);
  });

  it('answers 404 for an unknown incident and 400 naming the field for bad input', async () => {
    expect((await call('GET', '/incidents/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('POST', '/incidents/00000000-0000-4000-8000-000000000000/resolve')).status).toBe(404);
    for (const [query, field] of [
      ['status=closed', 'status'],
      ['kind=slow', 'kind'],
      ['since=yesterday', 'since'],
      ['limit=501', 'limit'],
      ['skip=-1', 'skip'],
      ['service_id=x', 'service_id'],
    ] as const) {
      const answer = await call<{ detail: string; errors?: { field: string }[] }>('GET', `/incidents?${query}`);
      expect(answer.status, query).toBe(400);
      expect(JSON.stringify(answer.body), query).toContain(field);
    }
    const long = await call<{ detail: string }>('POST', '/incidents/00000000-0000-4000-8000-000000000000/resolve', {
      note: 'x'.repeat(501),
    });
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.body)).toContain('note');
  });
});

describe('incidents across a crash', () => {
  it('keeps an open incident through kill -9, and the reconcile at start reopens one whose row was lost', async () => {
    target.set('/crash', failing);
    const service = await registerChecked('/crash');
    const open = await waitFor('down open', async () => (await incidentsOf(service.service_id, 'open'))[0]);
    await registry.api.stop('SIGKILL');
    // A write lost between the change and its incident, as a crash of an older version or MongoDB could leave it.
    const db = new Database(registry.dbPath);
    db.prepare('DELETE FROM incidents WHERE incident_id = ?').run(open.incident_id);
    db.close();
    await registry.restart({ BEACON_INCIDENT_REPEAT_INTERVAL: `${REPEAT}s` });
    const [reopened] = await incidentsOf(service.service_id, 'open');
    expect(reopened).toMatchObject({ kind: 'down', status: 'open' });
    expect(reopened?.note).toMatch(/reconcile/);

    const kept = reopened as Incident;
    await registry.api.stop('SIGKILL');
    await registry.restart({ BEACON_INCIDENT_REPEAT_INTERVAL: `${REPEAT}s` });
    const after = await incidentsOf(service.service_id, 'open');
    expect(after.map((incident) => incident.incident_id)).toEqual([kept.incident_id]);
    target.set('/crash', healthy(0.1));
    await waitFor('resolved after the restarts', async () =>
      (await incidentsOf(service.service_id, 'open')).length === 0 ? true : undefined,
    );
  });
});
