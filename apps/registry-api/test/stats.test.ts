import type { RegistryStatsResponse, Service } from '@beacon/contracts';
import {
  EventRecorder,
  startApp,
  startNatsServer,
  startRegistry,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failing, healthy, startHealthTarget, type HealthTarget } from './health-target';
import { Client, ISO_UTC } from './rest-helpers';

/**
 * `GET /api/v1/stats` against a real registry-api (SQLite file), nats-server and
 * health-prober: counts by status, health and type, checks and events of the last
 * minute, and the revision, each compared with what the catalog and NATS show. Each test
 * gets a fresh nats-server and registry-api: the counts are of its own catalog.
 */

interface Event {
  type: string;
  timestamp: string;
  revision: number;
}

let nats: NatsServerHandle;
let registry: RegistryFixture;
let prober: AppProcess | undefined;
let api: Client;
let events: EventRecorder<Event>;
let target: HealthTarget;

beforeAll(async () => {
  target = await startHealthTarget();
});

beforeEach(async () => {
  nats = await startNatsServer();
  // Before registry-api starts, so it sees every event registry-api will count.
  events = await EventRecorder.start<Event>(nats.url, 'beacon.events.service.*');
  registry = await startRegistry({ nats });
  api = new Client(registry.api.url);
});

afterEach(async () => {
  await prober?.stop();
  prober = undefined;
  await registry?.dispose();
  await events?.close();
  await nats?.dispose();
});

afterAll(async () => {
  await target?.close();
});

async function stats(): Promise<RegistryStatsResponse> {
  const result = await api.call('GET', '/api/v1/stats');
  expect(result.status, result.text).toBe(200);
  return result.body as RegistryStatsResponse;
}

/** Answers are reused for up to a second: wait for one generated after this call before comparing exactly. */
const fresh = async (): Promise<RegistryStatsResponse> => {
  const since = Date.now();
  return waitFor('a freshly generated answer', async () => {
    const answer = await stats();
    return Date.parse(answer.generated_at) >= since ? answer : undefined;
  });
};

describe('GET /api/v1/stats', () => {
  it('answers zeros for every status and health state on an empty catalog', async () => {
    const empty = await stats();
    expect(empty).toEqual({
      revision: 0,
      services: {
        total: 0,
        by_status: { active: 0, inactive: 0, expired: 0, unhealthy: 0 },
        by_health: { unknown: 0, healthy: 0, degraded: 0, unhealthy: 0 },
        by_type: {},
      },
      checks_last_minute: 0,
      events_last_minute: 0,
      generated_at: expect.stringMatching(ISO_UTC),
    });
    expect(Math.abs(Date.parse(empty.generated_at) - Date.now())).toBeLessThan(5000);
  });

  it('counts services by status, health and type, the checks and events of the last minute, at the current revision', async () => {
    const url = (path: string): string => `http://${target.host}:${target.port}${path}`;
    target.set('/ok', healthy(0.2));
    target.set('/busy', { status: 200, body: { status: 'degraded' } });
    target.set('/down', failing);
    const checks = { health_check_interval: 1, health_check_retries: 1 };
    await api.register({ name: 'short-lived', type: 'iot', host: '10.0.0.1', port: 1, ttl: 10 });
    await api.register({ name: 'web', type: 'http', host: '10.0.0.2', port: 80 });
    await api.register({ name: 'web', type: 'http', host: '10.0.0.3', port: 80 });
    const paused = await api.register({ name: 'broker', type: 'mqtt', host: '10.0.0.4', port: 1883 });
    expect((await api.call('PUT', `/api/v1/services/${paused.service_id}`, { json: { status: 'inactive' } })).status).toBe(200);
    const checked: Service[] = [];
    for (const [name, type, path] of [
      ['ok', 'api', '/ok'],
      ['busy', 'database', '/busy'],
      ['down', 'api', '/down'],
    ] as const) {
      checked.push(
        (await api.register({
          name,
          type,
          host: target.host,
          port: target.port,
          health_check_url: url(path),
          ...checks,
        })) as unknown as Service,
      );
    }

    prober = await startApp('health-prober', { env: { NATS_URL: nats.url, BEACON_RESYNC_INTERVAL: '2' }, portVariable: 'HTTP_PORT' });
    const settled = await waitFor(
      'every check applied and the short-lived service expired',
      async () => {
        const current = await stats();
        const { by_health, by_status } = current.services;
        return by_health.healthy === 1 &&
          by_health.degraded === 1 &&
          by_health.unhealthy === 1 &&
          by_status.expired === 1 &&
          current.checks_last_minute >= 6
          ? current
          : undefined;
      },
      40_000,
      250,
    );
    expect(settled.services).toEqual({
      total: 7,
      by_status: { active: 4, inactive: 1, expired: 1, unhealthy: 1 },
      by_health: { unknown: 4, healthy: 1, degraded: 1, unhealthy: 1 },
      by_type: { api: 2, database: 1, http: 2, iot: 1, mqtt: 1 },
    });

    // Quiet the catalog, then compare exactly with the check history and the event feed.
    await prober.stop();
    prober = undefined;
    const last = await api.register({ name: 'last', type: 'http', host: '10.0.0.9', port: 9 });
    const final = await fresh();
    expect(final.revision).toBe(last.revision);
    let history = 0;
    for (const service of checked) {
      const result = await api.call('GET', `/api/v1/services/${service.service_id}/health-checks?limit=100`);
      history += (result.body as { total: number }).total;
    }
    expect(history).toBeGreaterThanOrEqual(6);
    expect(final.checks_last_minute).toBe(history);
    const windowStart = Date.parse(final.generated_at) - 60_000;
    const recent = events.messages.filter((message) => Date.parse(message.data.timestamp) > windowStart);
    expect(recent.length).toBeGreaterThan(8);
    expect(final.events_last_minute).toBe(recent.length);
    expect(final.services.total).toBe(8);
  }, 90_000);

  it('is in the OpenAPI document', async () => {
    const document = (await api.call('GET', '/api/docs-json')).body as { paths: Record<string, unknown> };
    expect(document.paths).toHaveProperty(['/api/v1/stats']);
  });
});
