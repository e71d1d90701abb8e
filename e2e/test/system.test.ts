import { Subjects, type Service } from '@beacon/contracts';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startApp,
  type AppProcess,
  EventRecorder,
  fetchJson,
  requestJson,
  startRegistry,
  type RegistryFixture,
  freePort,
  sleep,
  uniqueName,
  waitFor,
} from '@beacon/testing';

/**
 * The apps together, as deployed: nats-server, registry-api, ttl-reaper and
 * health-prober processes, with HTTP targets served from this test.
 */
interface Event {
  type: string;
  timestamp: string;
  revision: number;
  service: Service;
}
interface ProbeEvent {
  result: { service_id: string; outcome: string; checked_at: string };
}

let registry: RegistryFixture;
let reaper: AppProcess;
let prober: AppProcess;
let target: Server;
let targetPort: number;
let targetHealthy = true;
let events: EventRecorder<Event>;
let probes: EventRecorder<ProbeEvent>;

const call = <T>(method: string, path: string): Promise<{ status: number; body: T }> => fetchJson<T>(method, `${registry.base}${path}`);

const register = (extra: Record<string, unknown> = {}): Promise<Service> =>
  registry.register({ name: uniqueName('sys'), host: '127.0.0.1', ttl: 10, ...extra });

const checked = (extra: Record<string, unknown> = {}): Promise<Service> =>
  register({ health_check_url: `http://127.0.0.1:${targetPort}/health`, health_check_interval: 1, health_check_timeout: 1, ...extra });

const eventsOf = (id: string, type: string): Event[] =>
  events.messages.filter((m) => m.data.type === type && m.data.service.service_id === id).map((m) => m.data);

const probedAfter = (id: string, since: number): boolean =>
  probes.messages.some((m) => m.data.result.service_id === id && Date.parse(m.data.result.checked_at) > since);

beforeAll(async () => {
  targetPort = await freePort();
  target = createServer((_request, response) => {
    response.writeHead(targetHealthy ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: targetHealthy ? 'healthy' : 'unhealthy', load_percentage: 0.2 }));
  });
  await new Promise<void>((resolve) => target.listen(targetPort, '127.0.0.1', resolve));
  registry = await startRegistry({ env: { BEACON_RESYNC_INTERVAL: '5' } });
  const nats = registry.nats;
  const common = { NATS_URL: nats.url, BEACON_RESYNC_INTERVAL: '5' };
  reaper = await startApp('ttl-reaper', {
    env: { ...common, BEACON_TTL_CLEANUP_INTERVAL: '5' },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
  prober = await startApp('health-prober', { env: common, portVariable: 'HTTP_PORT', readyPath: '/ready' });
  events = await EventRecorder.start<Event>(nats.url, 'beacon.events.service.>');
  probes = await EventRecorder.start<ProbeEvent>(nats.url, 'beacon.events.probe.result');
});

afterAll(async () => {
  for (const app of [prober, reaper]) await app?.stop('SIGKILL');
  await events?.close().catch(() => undefined);
  await probes?.close().catch(() => undefined);
  await new Promise((resolve) => target?.close(resolve));
  await registry?.dispose('SIGKILL');
});

describe('the apps together', () => {
  it('checks on demand through the real prober and applies the result before answering', async () => {
    const service = await checked({ health_check_interval: 3600 });
    // The prober learns of the service from its event: until then it would refuse (503).
    await waitFor('the prober to know the service', async () => {
      const probe = { service_id: service.service_id, publish: false };
      const reply = await requestJson<{ error?: unknown }>(registry.nats.url, Subjects.proberCheck, probe);
      return typeof reply.error !== 'object' || reply.error === null;
    });
    const response = await call<{ result: { outcome: string; load: number }; service: Service }>(
      'POST',
      `/services/${service.service_id}/health-check`,
    );
    expect(response.status).toBe(200);
    expect(response.body.result.outcome).toBe('healthy');
    expect(response.body.service.health).toBe('healthy');
    expect(response.body.service.load).toBe(0.2);
    const history = await call<{ total: number }>('GET', `/services/${service.service_id}/health-checks`);
    expect(history.body.total).toBe(1);
  });

  it('keeps a checked service alive with no heartbeat, turns it unhealthy on failures and back on recovery', async () => {
    const service = await checked({ health_check_retries: 3 });
    await sleep(Date.parse(service.expires_at) - Date.now() + 1500);
    expect((await call<Service>('GET', `/services/${service.service_id}`)).body.status).toBe('active');

    targetHealthy = false;
    try {
      await waitFor(
        'unhealthy',
        async () => (await call<Service>('GET', `/services/${service.service_id}`)).body.health === 'unhealthy',
        15_000,
      );
    } finally {
      targetHealthy = true;
    }
    await waitFor(
      'recovered',
      async () => (await call<Service>('GET', `/services/${service.service_id}`)).body.status === 'active',
      10_000,
    );
    expect(eventsOf(service.service_id, 'service.health_changed').map((e) => e.service.health)).toEqual([
      'healthy',
      'unhealthy',
      'healthy',
    ]);
  }, 40_000);

  it('expires a checked service on time once its checks stop passing, though renewals were announced sparingly', async () => {
    const service = await checked({ health_check_retries: 1 });
    await sleep(4000); // a few passing checks move expires_at without announcing each move
    targetHealthy = false;
    try {
      const stuck = await waitFor(
        'unhealthy',
        async () => {
          const current = (await call<Service>('GET', `/services/${service.service_id}`)).body;
          return current.health === 'unhealthy' ? current : undefined;
        },
        10_000,
      );
      await waitFor('expired event', () => eventsOf(service.service_id, 'service.expired').length > 0, 20_000);
      const expired = eventsOf(service.service_id, 'service.expired')[0] as Event;
      const lag = Date.parse(expired.timestamp) - Date.parse(stuck.expires_at);
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(1500);
    } finally {
      targetHealthy = true;
    }
  }, 40_000);

  it('refuses a metadata-service target and says so in the history', async () => {
    const service = await register({ health_check_url: 'http://169.254.169.254/latest/meta-data', health_check_interval: 1 });
    await waitFor(
      'refused checks',
      async () => {
        const history = await call<{ checks: { outcome: string; error: string }[] }>(
          'GET',
          `/services/${service.service_id}/health-checks`,
        );
        return history.body.checks.length >= 3 && history.body.checks.every((check) => check.outcome === 'refused');
      },
      15_000,
    );
    expect((await call<Service>('GET', `/services/${service.service_id}`)).body.health).toBe('unhealthy');
  }, 20_000);

  it('converges after NATS restarts: nothing is left unexpired or unprobed', async () => {
    const silentBefore = await register();
    const checkedBefore = await checked();
    // The apps know both before the outage: the prober has checked the one it checks.
    await waitFor(`a probe of ${checkedBefore.name}`, () => probedAfter(checkedBefore.service_id, 0));

    await registry.nats.stop();
    // While NATS is down the REST API still works; these changes' events are lost or late.
    const silentDuring = await register();
    const checkedDuring = await checked();
    await sleep(3000); // the outage
    await registry.nats.start();
    const restartedAt = Date.now();

    // Expired on time by the reaper (its view learns of silentDuring from a resync).
    for (const service of [silentBefore, silentDuring]) {
      await waitFor(`expired event for ${service.name}`, () => eventsOf(service.service_id, 'service.expired').length > 0, 20_000);
      const expired = eventsOf(service.service_id, 'service.expired')[0] as Event;
      expect(Date.parse(expired.timestamp) - Math.max(Date.parse(service.expires_at), restartedAt)).toBeLessThan(7_000);
    }
    // Probed again, and kept alive by the checks.
    for (const service of [checkedBefore, checkedDuring]) {
      await waitFor(`probe of ${service.name} after the restart`, () => probedAfter(service.service_id, restartedAt), 15_000);
    }
    await sleep(Math.max(0, Date.parse(checkedDuring.expires_at) - Date.now() + 1000));
    for (const service of [checkedBefore, checkedDuring]) {
      const current = (await call<Service>('GET', `/services/${service.service_id}`)).body;
      expect([current.status, current.health]).toEqual(['active', 'healthy']);
    }
    for (const app of [registry.api, reaper, prober]) {
      const ready = await fetch(`${app.url}/ready`);
      expect(ready.status).toBe(200);
    }
  }, 60_000);
});
