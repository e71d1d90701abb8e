import type { HealthCheckEntry, PingsResponse, Service, StatusPage, UptimeOverview, UptimeResponse } from '@beacon/contracts';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failing, healthy, startHealthTarget, type HealthTarget } from './health-target';

/**
 * Uptime history from real checks: health-prober checks an HTTP target on loopback every
 * second, and registry-api closes windows of 2 s (BEACON_UPTIME_WINDOW_SECONDS, the test
 * knob; 300 otherwise) from the stored results.
 */

const WINDOW_S = 2;
const ENV = { BEACON_UPTIME_WINDOW_SECONDS: String(WINDOW_S) };

let nats: NatsServerHandle;
let registry: RegistryFixture;
let prober: AppProcess;
let target: HealthTarget;

beforeAll(async () => {
  target = await startHealthTarget();
  nats = await startNatsServer();
  registry = await startRegistry({ nats, env: ENV });
  prober = await startApp('health-prober', { env: { NATS_URL: nats.url, BEACON_RESYNC_INTERVAL: '1' }, portVariable: 'HTTP_PORT' });
});

afterAll(async () => {
  await prober?.stop();
  await registry?.dispose();
  await nats?.dispose();
  await target?.close();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetchJson<T>('GET', `${registry.base}${path}`);
  return { status: response.status, body: response.body };
}

const checked = (path: string, tags: string[] = []): Promise<Service> =>
  registry.register({
    name: uniqueName('uptime'),
    host: target.host,
    port: target.port,
    tags,
    health_check_url: `http://${target.host}:${target.port}${path}`,
    health_check_interval: 1,
    health_check_retries: 1,
  });

/** Every stored window of the service agrees with its pings: as many checks and failures as results in its span. */
async function expectWindowsMatchPings(serviceId: string): Promise<number> {
  const uptime = (await get<UptimeResponse>(`/services/${serviceId}/uptime`)).body;
  const pings = (await get<PingsResponse>(`/services/${serviceId}/pings?limit=1000`)).body.pings;
  const starts = uptime.windows.map((window) => window.start);
  expect(new Set(starts).size).toBe(starts.length);
  for (const window of uptime.windows) {
    const start = Date.parse(window.start);
    const inside = pings.filter((ping: HealthCheckEntry) => {
      const at = Date.parse(ping.checked_at);
      return at >= start && at < start + WINDOW_S * 1000;
    });
    expect(window.checks, window.start).toBe(inside.length);
    expect(window.failures, window.start).toBe(inside.filter((ping) => ping.outcome !== 'healthy' && ping.outcome !== 'degraded').length);
  }
  return uptime.windows.length;
}

describe('uptime and pings from real checks', () => {
  it('closes windows with checks, failures, availability and latency, and reports uptime per period', async () => {
    target.set('/u', healthy(0.1));
    const service = await checked('/u', ['public']);
    await sleep(4000);
    target.set('/u', failing);
    await sleep(3000);
    target.set('/u', healthy(0.1));
    const uptime = await waitFor(
      'windows with passes and failures',
      async () => {
        const answer = (await get<UptimeResponse>(`/services/${service.service_id}/uptime`)).body;
        const failed = answer.windows.some((window) => window.failures > 0);
        const passedAfter = answer.windows.map((window) => window.failures === 0 && window.checks > 0).lastIndexOf(true);
        const firstFailure = answer.windows.findIndex((window) => window.failures > 0);
        return failed && passedAfter > firstFailure ? answer : undefined;
      },
      20_000,
    );
    expect(uptime.source).toBe('checks');
    const withChecks = uptime.windows.filter((window) => window.checks > 0);
    expect(
      withChecks.every((window) => window.response_time_ms !== null && window.response_time_ms.p50 <= window.response_time_ms.max),
    ).toBe(true);
    const checks = withChecks.reduce((sum, window) => sum + window.checks, 0);
    const failures = withChecks.reduce((sum, window) => sum + window.failures, 0);
    expect(uptime.uptime['1h']).toBeCloseTo((100 * (checks - failures)) / checks, 2);
    expect(uptime.uptime['1h']).toBeLessThan(100);
    expect(uptime.uptime['1h']).toBeGreaterThan(0);
    await expectWindowsMatchPings(service.service_id);

    const pings = (await get<PingsResponse>(`/services/${service.service_id}/pings?limit=5`)).body;
    expect(pings.pings).toHaveLength(5);
    expect(pings.total).toBeGreaterThanOrEqual(checks);
    expect(Date.parse(pings.pings[0]?.checked_at ?? '')).toBeGreaterThan(Date.parse(pings.pings[4]?.checked_at ?? ''));
    const since = pings.pings[2]?.checked_at ?? '';
    const recent = (await get<PingsResponse>(`/services/${service.service_id}/pings?since=${encodeURIComponent(since)}`)).body;
    expect(recent.pings.every((ping) => ping.checked_at >= since)).toBe(true);

    const overview = (await get<UptimeOverview>('/uptime?windows=20')).body;
    expect(overview.window_seconds).toBe(WINDOW_S);
    const bar = overview.services.find((each) => each.service_id === service.service_id);
    expect(bar?.availability).toHaveLength(20);
    expect(bar?.availability.some((value) => value !== null && value < 1)).toBe(true);
    expect(bar?.latency_p50.some((value) => value !== null)).toBe(true);
    expect(bar?.uptime_24h).toBeCloseTo(uptime.uptime['24h'] ?? -1, 0);

    const page = (await get<StatusPage>('/status-page')).body;
    expect(page.title).toBe('Status');
    expect(page.days).toHaveLength(90);
    const row = page.services.find((each) => each.service_id === service.service_id);
    expect(row?.days.at(-1)).not.toBeNull();
    expect(row?.days.at(0)).toBeNull();
  });

  it('gives a heartbeat-only service availability from its active time', async () => {
    const service = await registry.register({ name: uniqueName('beats'), host: '10.9.0.2', port: 80, ttl: 60 });
    const uptime = await waitFor(
      'a heartbeat window',
      async () => {
        const answer = (await get<UptimeResponse>(`/services/${service.service_id}/uptime`)).body;
        return answer.windows.length >= 2 ? answer : undefined;
      },
      15_000,
    );
    expect(uptime.source).toBe('heartbeats');
    expect(uptime.windows.every((window) => window.checks === 0 && window.availability === 1)).toBe(true);
    expect(uptime.uptime['1h']).toBe(100);
  });

  it('loses and double-counts no window across kill -9', async () => {
    target.set('/k', healthy(0.2));
    const service = await checked('/k');
    await waitFor(
      'windows',
      async () => ((await get<UptimeResponse>(`/services/${service.service_id}/uptime`)).body.windows.length >= 2 ? true : undefined),
      15_000,
    );
    await registry.api.stop('SIGKILL');
    await sleep(WINDOW_S * 2000);
    await registry.restart(ENV);
    const before = (await get<UptimeResponse>(`/services/${service.service_id}/uptime`)).body.windows.length;
    await waitFor(
      'more windows after the restart',
      async () => {
        const answer = (await get<UptimeResponse>(`/services/${service.service_id}/uptime`)).body;
        return answer.windows.length >= before + 2 ? true : undefined;
      },
      15_000,
    );
    expect(await expectWindowsMatchPings(service.service_id)).toBeGreaterThan(2);
  });

  it('answers 400 naming the field for a bad range or count, and 404 for an unknown service', async () => {
    const service = await registry.register({ name: uniqueName('bad'), host: '10.9.0.3', port: 80 });
    for (const [query, field] of [
      ['from=yesterday', 'from'],
      ['to=2030-13-01', 'to'],
      ['from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', 'from'],
      ['from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z', 'from'],
    ] as const) {
      const answer = await get<{ detail: string }>(`/services/${service.service_id}/uptime?${query}`);
      expect(answer.status, query).toBe(400);
      expect(JSON.stringify(answer.body), query).toContain(field);
    }
    for (const [path, field] of [
      [`/services/${service.service_id}/pings?limit=0`, 'limit'],
      [`/services/${service.service_id}/pings?limit=5000`, 'limit'],
      [`/services/${service.service_id}/pings?since=soon`, 'since'],
      ['/uptime?windows=289', 'windows'],
      ['/uptime?windows=x', 'windows'],
    ] as const) {
      const answer = await get<{ detail: string }>(path);
      expect(answer.status, path).toBe(400);
      expect(JSON.stringify(answer.body), path).toContain(field);
    }
    expect((await get('/services/00000000-0000-4000-8000-000000000000/uptime')).status).toBe(404);
    expect((await get('/services/00000000-0000-4000-8000-000000000000/pings')).status).toBe(404);
  });

  it('turns the status page off, or shows every service, by BEACON_STATUS_PAGE', async () => {
    await registry.api.stop();
    await registry.restart({ ...ENV, BEACON_STATUS_PAGE: 'off' });
    expect((await get('/status-page')).status).toBe(404);
    await registry.api.stop();
    await registry.restart({ ...ENV, BEACON_STATUS_PAGE: 'all', BEACON_STATUS_PAGE_TITLE: 'Home lab' });
    const page = (await get<StatusPage>('/status-page')).body;
    expect(page.title).toBe('Home lab');
    const all = (await get<{ total: number }>('/services?limit=1')).body.total;
    expect(page.services).toHaveLength(all);
  });
});
