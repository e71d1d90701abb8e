import { EVENTS_STREAM, type Incident, type IncidentList, type Service } from '@beacon/contracts';
import {
  fetchJson,
  probeResult,
  publishProbeResult,
  startApp,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Incidents attacked on real processes: registry-api on an SQLite file, nats-server and ttl-reaper,
 * the test playing health-prober (it publishes check results as the prober does).
 */

let registry: RegistryFixture;
let prober: NatsConnection;
let reaper: AppProcess;

beforeAll(async () => {
  registry = await startRegistry();
  prober = await connect({ servers: registry.nats.url, ...registry.nats.credentials('health-prober') });
  reaper = await startApp('ttl-reaper', { env: { NATS_URL: registry.nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' });
});

afterAll(async () => {
  await reaper?.stop();
  await prober?.close();
  await registry?.dispose();
});

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetchJson<T>(method, `${registry.base}${path}`, body);
  return { status: response.status, body: response.body };
}

const openOf = async (serviceId: string): Promise<Incident[]> =>
  (await call<IncidentList>('GET', `/incidents?service_id=${serviceId}&status=open`)).body.incidents;

/** A checked service (fall 1) with a down incident open, opened by one failing result. */
async function downService(extra: Record<string, unknown> = {}): Promise<{ service: Service; incident: Incident }> {
  const service = await registry.register<Service>({
    name: uniqueName('review'),
    host: '127.0.0.1',
    port: 9,
    health_check_url: 'http://127.0.0.1:9/health',
    health_check_interval: 3600,
    health_check_retries: 1,
    ...extra,
  });
  publishProbeResult(
    prober,
    probeResult(service, { ok: false, health: 'unhealthy', outcome: 'unhealthy', status_code: 503, error: 'boom' }),
  );
  const [incident] = await waitFor('a down incident', async () => {
    const open = await openOf(service.service_id);
    return open.length > 0 ? open : undefined;
  });
  return { service, incident: incident as Incident };
}

/** Incident events in BEACON_EVENTS for one incident, read from the start. */
async function eventsOf(incidentId: string): Promise<string[]> {
  return (await incidentEvents()).get(incidentId) ?? [];
}

/** Every incident's event types in BEACON_EVENTS, in stream order, read from the start. */
async function incidentEvents(): Promise<Map<string, string[]>> {
  const connection = await connect({ servers: registry.nats.url, ...registry.nats.credentials('realtime-gateway') });
  try {
    const consumer = await connection.jetstream().consumers.get(EVENTS_STREAM);
    const types = new Map<string, string[]>();
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      let received = 0;
      for await (const message of batch) {
        received += 1;
        const body = message.json<{ type: string; incident?: Incident }>();
        if (body.incident) types.set(body.incident.incident_id, [...(types.get(body.incident.incident_id) ?? []), body.type]);
      }
      if (received === 0) return types;
    }
  } finally {
    await connection.close();
  }
}

describe('operators racing', () => {
  it('resolves an incident once when many resolves arrive together', async () => {
    const { incident } = await downService();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call<Incident>('POST', `/incidents/${incident.incident_id}/resolve`, { note: 'race' })),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const types = await eventsOf(incident.incident_id);
    expect(types.filter((type) => type === 'incident.resolved')).toHaveLength(1);
  });

  it('acknowledges once when many acknowledges arrive together, and an acknowledge racing a resolve leaves it resolved', async () => {
    const { incident } = await downService();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        call<Incident>('POST', `/incidents/${incident.incident_id}/${index % 2 === 0 ? 'acknowledge' : 'resolve'}`),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    // One resolve wins; an acknowledge either came first (200) or found it resolved (409).
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(2);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const final = await call<Incident>('GET', `/incidents/${incident.incident_id}`);
    const types = await eventsOf(incident.incident_id);
    expect(final.body.status).toBe('resolved');
    expect(types.filter((type) => type === 'incident.resolved')).toHaveLength(1);
    expect(types.filter((type) => type === 'incident.acknowledged').length).toBeLessThanOrEqual(1);
    expect(types.at(-1)).toBe('incident.resolved');
  });
});

describe('a resolve by hand racing catalog changes', () => {
  it('leaves the store and the answers agreeing: the still-failing service has exactly one open incident, the new one (no defect found)', async () => {
    for (let round = 0; round < 10; round += 1) {
      const { service, incident } = await downService();
      // Metadata changes of the still-unhealthy service arrive with the resolve: each may open the next incident.
      const answers = await Promise.all([
        call('PUT', `/services/${service.service_id}`, { metadata: { round: '1' } }),
        call('POST', `/incidents/${incident.incident_id}/resolve`),
        call('PUT', `/services/${service.service_id}`, { metadata: { round: '2' } }),
        call('PUT', `/services/${service.service_id}`, { metadata: { round: '3' } }),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stored = await openOf(service.service_id);
      expect(
        stored.map((each) => each.kind),
        `round ${round}`,
      ).toEqual(['down']);
      const [reopened] = stored as [Incident];
      expect(reopened.incident_id).not.toBe(incident.incident_id);
      expect((await call<Incident>('GET', `/incidents/${reopened.incident_id}`)).body.status).toBe('open');
      await call('DELETE', `/services/${service.service_id}`);
    }
  });
});

describe('check results from a prober with a wrong clock', () => {
  // applyProbe drops every result older than the last one applied, so one result stamped an hour ahead froze
  // health for an hour (this test failed then); a result from the future now counts as checked at the registry's now.
  it('resolves the down incident when the target recovers, after one result stamped an hour ahead', async () => {
    const { service, incident } = await downService();
    const ahead = new Date(Date.now() + 3600_000).toISOString();
    publishProbeResult(
      prober,
      probeResult(service, { ok: false, health: 'unhealthy', outcome: 'unhealthy', status_code: 503, checked_at: ahead }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The shard moves to a prober with the right clock, and the target is up again.
    publishProbeResult(prober, probeResult(service));
    await waitFor(
      'the incident resolved',
      async () => {
        const current = await call<Incident>('GET', `/incidents/${incident.incident_id}`);
        return current.body.status === 'resolved' ? true : undefined;
      },
      5000,
    );
  });
});

describe('expired and down together, purge, takeover (no defect found)', () => {
  it("opens expired beside down when a failing service's TTL lapses, resolves both on a passing check, and purge resolves what is left", async () => {
    // Two failing services whose TTL lapses together: one comes back, the other is purged.
    const [revived, purged] = await Promise.all([downService({ ttl: 10 }), downService({ ttl: 10 })]);
    const bothOpen = async (serviceId: string): Promise<Incident[] | undefined> => {
      const open = await openOf(serviceId);
      return open.length === 2 ? open : undefined;
    };
    const open = await waitFor('expired beside down', () => bothOpen(revived.service.service_id), 20_000);
    expect(open.map((each) => each.kind).sort()).toEqual(['down', 'expired']);
    await waitFor('expired beside down (the other)', () => bothOpen(purged.service.service_id), 5000);
    // The target answers again: smart TTL revives the service and health comes back at once (rise 1).
    publishProbeResult(prober, probeResult(revived.service));
    await waitFor('both resolved', async () => ((await openOf(revived.service.service_id)).length === 0 ? true : undefined), 5000);
    for (const incident of open) {
      expect((await call<Incident>('GET', `/incidents/${incident.incident_id}`)).body).toMatchObject({
        status: 'resolved',
        resolved_by: 'auto',
      });
    }
    // The other is purged: its incidents resolve with the reason.
    expect((await call<{ removed_count: number }>('DELETE', '/services/cleanup')).body.removed_count).toBeGreaterThanOrEqual(1);
    expect((await call('GET', `/services/${revived.service.service_id}`)).status).toBe(200);
    expect(await openOf(purged.service.service_id)).toEqual([]);
    const all = (await call<IncidentList>('GET', `/incidents?service_id=${purged.service.service_id}`)).body.incidents;
    expect(all.map((each) => each.note)).toEqual(['the expired service was purged', 'the expired service was purged']);
  });

  it("resolves the old record's incidents as superseded when another registration takes over its endpoint", async () => {
    const { service, incident } = await downService({ instance_id: 'a' });
    // Instance b, known by its instance_id, moves onto instance a's endpoint: a's record is replaced.
    await registry.register<Service>({ name: service.name, host: service.host, port: 10, instance_id: 'b' });
    await registry.register<Service>({ name: service.name, host: service.host, port: service.port, instance_id: 'b' });
    expect((await call('GET', `/services/${service.service_id}`)).status).toBe(404);
    expect((await call<Incident>('GET', `/incidents/${incident.incident_id}`)).body).toMatchObject({
      status: 'resolved',
      note: 'another registration took over the service endpoint',
    });
    const types = await eventsOf(incident.incident_id);
    expect(types).toEqual(['incident.opened', 'incident.resolved']);
  });
});

describe('kill -9 during a failure storm (no defect found)', () => {
  it("keeps one open incident per service, and each incident's events once, through crashes at random points", async () => {
    const services = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        registry.register<Service>({
          name: uniqueName('storm'),
          host: '127.0.0.1',
          port: 1000 + index,
          health_check_url: `http://127.0.0.1:${1000 + index}/health`,
          health_check_interval: 3600,
          health_check_retries: 1,
        }),
      ),
    );
    const ids = new Set(services.map((service) => service.service_id));
    for (let round = 0; round < 4; round += 1) {
      const ok = round % 2 === 1;
      for (const service of services) {
        publishProbeResult(
          prober,
          probeResult(service, ok ? {} : { ok: false, health: 'unhealthy', outcome: 'unhealthy', status_code: 502, error: 'storm' }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 150)));
      await registry.api.stop('SIGKILL');
      await registry.restart();
    }
    // The last round failed (and results may have been lost with the crash): fail them all once more, then recover.
    const settle = async (ok: boolean, open: number): Promise<void> => {
      await waitFor(
        `${open} open`,
        async () => {
          for (const service of services) {
            publishProbeResult(
              prober,
              probeResult(service, ok ? {} : { ok: false, health: 'unhealthy', outcome: 'unhealthy', status_code: 502 }),
            );
          }
          const list = await call<IncidentList>('GET', '/incidents?status=open&limit=500');
          const mine = list.body.incidents.filter((incident) => ids.has(incident.service_id));
          return mine.length === open ? true : undefined;
        },
        15_000,
      );
    };
    await settle(false, services.length);
    const open = (await call<IncidentList>('GET', '/incidents?status=open&limit=500')).body.incidents.filter((incident) =>
      ids.has(incident.service_id),
    );
    expect(new Set(open.map((incident) => incident.service_id)).size).toBe(services.length);
    await settle(true, 0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const events = await incidentEvents();
    const all = (await call<IncidentList>('GET', '/incidents?limit=500')).body.incidents.filter((incident) => ids.has(incident.service_id));
    expect(all.length).toBeGreaterThanOrEqual(services.length);
    for (const incident of all) {
      expect(incident.status, incident.incident_id).toBe('resolved');
      expect(events.get(incident.incident_id), incident.incident_id).toEqual(['incident.opened', 'incident.resolved']);
    }
    // No event of an incident the store does not hold.
    const stored = new Set(all.map((incident) => incident.incident_id));
    for (const [id, types] of events) {
      if (types.includes('incident.opened') || stored.has(id)) continue;
      expect.fail(`events ${types.join(', ')} of incident ${id}, never opened`);
    }
  });
});

describe('reminders across a restart', () => {
  it('keeps reminding, one interval after the restart, when BEACON_INCIDENT_REPEAT_INTERVAL grew', async () => {
    await registry.api.stop();
    await registry.restart({ BEACON_INCIDENT_REPEAT_INTERVAL: '1s' });
    const { incident } = await downService();
    const reminders = async (): Promise<number> => (await call<Incident>('GET', `/incidents/${incident.incident_id}`)).body.reminders;
    await waitFor('5 reminders', async () => ((await reminders()) >= 5 ? true : undefined), 15_000);
    await registry.api.stop();
    await registry.restart({ BEACON_INCIDENT_REPEAT_INTERVAL: '3s' });
    const before = await reminders();
    // Due 3 s after the restart (a count of 5 at 3 s reads as due only 18 s after the start, ~10 s from here).
    await waitFor('a reminder at the new interval', async () => ((await reminders()) > before ? true : undefined), 6000);
    await registry.api.stop();
    await registry.restart();
  });
});

describe('hostile queries', () => {
  it('answers 4xx, never 5xx (no defect found)', async () => {
    const queries = [
      'since=%2B275760-09-13T00:00:00.000Z',
      'since=-271821-04-20T00:00:00Z',
      'since=0000-01-01T00:00:00Z',
      'since=9999-12-31T23:59:59.999Z',
      'since=2026-01-31T12:00:00%2B99:99',
      'since=2026-02-30T00:00:00Z',
      'limit=0',
      'limit=1e3',
      'limit=1.5',
      'limit=99999999999999999999999',
      'skip=99999999999999999999999',
      'skip=1e400',
      'skip=NaN',
      'status=open&status=resolved',
      'kind=down&kind=expired',
      'kind[]=down',
      'kind[a]=down',
      'service_id=00000000-0000-4000-8000-000000000000&service_id=x',
      'since=',
      'limit=',
      '__proto__=1',
      'constructor[prototype][x]=1',
    ];
    for (const query of queries) {
      const answer = await call<unknown>('GET', `/incidents?${query}`);
      expect(answer.status, query).toBeLessThan(500);
    }
    for (const id of ['x', 'x'.repeat(10_000), '%00', '..%2F..%2Fservices', '%F0%9F%92%A9', '00000000-0000-4000-8000-000000000000%20']) {
      for (const [method, suffix] of [
        ['GET', ''],
        ['POST', '/resolve'],
        ['POST', '/acknowledge'],
      ] as const) {
        const answer = await call<unknown>(method, `/incidents/${id}${suffix}`);
        expect(answer.status, `${method} ${id.slice(0, 20)}${suffix}`).toBeLessThan(500);
      }
    }
  });
});
