import { Subjects, type ProbeResult, type Service } from '@beacon/contracts';
import {
  EventRecorder,
  fetchJson,
  probeResult,
  publishProbeResult,
  sleep,
  startRegistry,
  waitFor,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * registry-api's side of health checks, driven by probe results published on NATS
 * exactly as health-prober publishes them.
 */
interface Event {
  type: string;
  revision: number;
  service: Service;
  previous_health?: string;
  load?: number;
}

let registry: RegistryFixture;
let events: EventRecorder<Event>;
let client: NatsConnection;
let clock = Date.now();

beforeAll(async () => {
  registry = await startRegistry({ env: { CRITICAL_LOAD_THRESHOLD: '0.8' } });
  events = await EventRecorder.start<Event>(registry.nats.url, 'beacon.events.service.>');
  client = await connect({ servers: registry.nats.url });
});

afterAll(async () => {
  await events?.close();
  await client?.close();
  await registry?.dispose();
});

function register(overrides: Record<string, unknown> = {}): Promise<Service> {
  return registry.register({
    name: `checked-${randomUUID().slice(0, 8)}`,
    host: '10.1.0.1',
    port: 8080,
    health_check_url: `http://10.1.0.1:${1000 + Math.floor(Math.random() * 50000)}/health`,
    health_check_retries: 3,
    ...overrides,
  });
}

function result(service: Service, overrides: Partial<ProbeResult> = {}): ProbeResult {
  clock += 10;
  return probeResult(service, { response_time_ms: 1.5, checked_at: new Date(clock).toISOString(), prober_id: 'test-prober', ...overrides });
}

const failing = (service: Service): ProbeResult =>
  result(service, { ok: false, health: 'unhealthy', outcome: 'error', status_code: null, error: 'ECONNREFUSED' });

/** Publishes results in order and waits until the last one is applied (its check time shows). */
async function deliver(...results: ProbeResult[]): Promise<Service> {
  for (const each of results) publishProbeResult(client, each);
  const last = results.at(-1) as ProbeResult;
  return waitFor(`result at ${last.checked_at} applied`, async () => {
    const response = await fetchJson<Service>('GET', `${registry.base}/services/${last.service_id}`);
    return response.body.last_health_check === last.checked_at ? response.body : undefined;
  });
}

const ofType = (service: Service, type: string): Event[] =>
  events.messages.filter((m) => m.data.type === type && m.data.service.service_id === service.service_id).map((m) => m.data);

const metrics = async (): Promise<string> => (await fetch(`${registry.api.url}/metrics`)).text();

describe('probe results in registry-api', () => {
  it('turns unhealthy after 3 failures with one health_changed, ignores a blip, and recovers', async () => {
    const service = await register();
    expect((await deliver(result(service))).health).toBe('healthy');
    const blip = await deliver(failing(service), result(service));
    expect([blip.health, blip.status]).toEqual(['healthy', 'active']);
    const down = await deliver(failing(service), failing(service), failing(service));
    expect([down.health, down.status, down.consecutive_health_failures]).toEqual(['unhealthy', 'unhealthy', 3]);
    const discovered = await fetchJson<{ services: Service[] }>('GET', `${registry.base}/services/discover?name=${service.name}`);
    expect(discovered.body.services).toHaveLength(0);
    const series = `beacon_service_unhealthy{service_id="${service.service_id}",name="${service.name}",type="${service.type}",app="registry-api"} 1`;
    expect(await metrics()).toContain(series);
    expect(await metrics()).toMatch(/^beacon_services\{status="unhealthy",app="registry-api"\} [1-9]/m);
    const back = await deliver(result(service));
    expect([back.health, back.status]).toEqual(['healthy', 'active']);
    expect(await metrics()).not.toContain(series);
    await waitFor('health_changed events', () => ofType(service, 'service.health_changed').length >= 3);
    expect(ofType(service, 'service.health_changed').map((e) => `${e.previous_health}->${e.service.health}`)).toEqual([
      'unknown->healthy',
      'healthy->unhealthy',
      'unhealthy->healthy',
    ]);
  });

  it('reads degraded when the service says so, and reports load', async () => {
    const service = await register();
    const degraded = await deliver(result(service, { health: 'degraded', outcome: 'degraded', load: 0.42 }));
    expect([degraded.health, degraded.status, degraded.load]).toEqual(['degraded', 'active', 0.42]);
  });

  it('sends one critical_load per crossing of the threshold', async () => {
    const service = await register();
    await deliver(...[0.5, 0.9, 0.95, 0.85].map((load) => result(service, { load })));
    await waitFor('critical_load', () => ofType(service, 'service.critical_load').length >= 1);
    await deliver(result(service, { load: 0.6 }), result(service, { load: 0.91 }));
    await waitFor('second critical_load', () => ofType(service, 'service.critical_load').length >= 2);
    await sleep(200); // a quiet period: no third one should follow
    expect(ofType(service, 'service.critical_load').map((e) => e.load)).toEqual([0.9, 0.91]);
  });

  it('keeps a checked service alive with no heartbeat (smart TTL)', async () => {
    const service = await register({ ttl: 10 });
    const deadline = Date.parse(service.expires_at);
    while (Date.now() < deadline + 2000) {
      await deliver(result(service));
      await sleep(1000); // the scenario: one passing check a second, as a prober would
    }
    const alive = await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}`);
    expect(alive.body.status).toBe('active');
    expect(Date.parse(alive.body.expires_at)).toBeGreaterThan(Date.now() + 5000);
  }, 30_000);

  it('announces renewals by checks sparingly, and a declined expire says where the deadline moved', async () => {
    const service = await register({ ttl: 60 });
    await deliver(result(service)); // unknown -> healthy: announced as health_changed
    const passing = Array.from({ length: 8 }, () => result(service));
    const renewed = await deliver(...passing);
    await sleep(200); // a quiet period: no renewal event should follow
    expect(ofType(service, 'service.renewed')).toHaveLength(0);
    expect(Date.parse(renewed.expires_at)).toBeGreaterThan(Date.parse(service.expires_at));

    const request = new TextEncoder().encode(JSON.stringify({ service_id: service.service_id, expires_at: service.expires_at }));
    const reply = JSON.parse(new TextDecoder().decode((await client.request(Subjects.registryExpire, request, { timeout: 5000 })).data));
    expect(reply).toEqual({ v: 1, expired: false, expires_at: renewed.expires_at });
  });

  it('ignores results for a target the service no longer has, and drops invalid ones', async () => {
    const service = await register();
    await deliver(result(service));
    const before = await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}`);
    // Every result received is counted, whatever became of it: wait until all three below are.
    const received = async (): Promise<number> =>
      (await (await fetch(`${registry.api.url}/metrics`)).text())
        .split('\n')
        .filter((line) => line.startsWith('beacon_probe_results_total{'))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    const receivedBefore = await received();
    client.publish(
      Subjects.probeResult,
      new TextEncoder().encode(JSON.stringify({ result: { ...failing(service), target: 'http://old/health' } })),
    );
    client.publish(
      Subjects.probeResult,
      new TextEncoder().encode(JSON.stringify({ result: { service_id: service.service_id, ok: 'yes' } })),
    );
    client.publish(Subjects.probeResult, new TextEncoder().encode('not json'));
    await waitFor('the three results counted', async () => (await received()) >= receivedBefore + 3);
    const after = await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}`);
    expect(after.body.revision).toBe(before.body.revision);
    const metrics = await (await fetch(`${registry.api.url}/metrics`)).text();
    expect(metrics).toMatch(/beacon_probe_results_total\{result="invalid"[^}]*\} [1-9]/);
  });

  it('serves the check history, newest first', async () => {
    const service = await register();
    await deliver(result(service, { response_time_ms: 1 }), failing(service), result(service, { response_time_ms: 3 }));
    type History = { service_id: string; checks: { outcome: string; response_time_ms: number }[]; total: number };
    const read = () => fetchJson<History>('GET', `${registry.base}/services/${service.service_id}/health-checks?limit=2`);
    // The record shows the last check as soon as it is applied; its history entry is
    // committed in the write after that, so wait for it rather than race it.
    const history = await waitFor('the third check in the history', async () => {
      const response = await read();
      return response.body.total >= 3 ? response : undefined;
    });
    expect(history.status).toBe(200);
    expect(history.body.total).toBe(3);
    expect(history.body.checks.map((c) => c.outcome)).toEqual(['healthy', 'error']);
    expect((await fetchJson('GET', `${registry.base}/services/${randomUUID()}/health-checks`)).status).toBe(404);
    expect((await fetchJson('GET', `${registry.base}/services/${service.service_id}/health-checks?limit=0`)).status).toBe(400);
  });

  it('answers the on-demand check route with clear errors when it cannot check', async () => {
    const unchecked = await fetchJson<Service>('POST', `${registry.base}/services/register`, {
      name: `plain-${randomUUID().slice(0, 6)}`,
      host: '10.1.0.2',
      port: 1,
    });
    const noCheck = await fetchJson<{ detail: string }>('POST', `${registry.base}/services/${unchecked.body.service_id}/health-check`);
    expect(noCheck.status).toBe(409);
    expect(noCheck.body.detail).toMatch(/no health_check_url/);
    const checked = await register();
    const noProber = await fetchJson<{ detail: string }>('POST', `${registry.base}/services/${checked.service_id}/health-check`);
    expect(noProber.status).toBe(503);
    expect(noProber.body.detail).toMatch(/health-prober/);
    expect((await fetchJson('POST', `${registry.base}/services/${randomUUID()}/health-check`)).status).toBe(404);
  });
});
