import { Subjects, type ProbeResult, type Service } from '@beacon/contracts';
import { freePort, sleep, waitFor, type AppProcess } from '@beacon/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack';
import { startTargetServer, startTcpListener, type TargetServer } from './target-server';

/**
 * One prober process in a real stack, checking local targets registered through
 * registry-api's REST API; assertions are on the `probe.result` events it publishes.
 */
let stack: Stack;
let targets: TargetServer;
let listener: Awaited<ReturnType<typeof startTcpListener>>;
let prober: AppProcess;
const services: Record<string, Service> = {};
let closedPort = 0;

const CASES: Record<string, { path?: string; tcp?: 'open' | 'closed'; url?: string; interval?: number }> = {
  healthy: { path: '/healthy' },
  degraded: { path: '/degraded' },
  loaded: { path: '/loaded' },
  error500: { path: '/error' },
  slow: { path: '/slow' },
  redirect2: { path: '/redirect/2' },
  redirect4: { path: '/redirect/4' },
  big: { path: '/big' },
  metadata: { url: 'http://169.254.169.254/latest/meta-data' },
  tcpOpen: { tcp: 'open' },
  tcpClosed: { tcp: 'closed' },
};

/** The latest result for a case from the suite's own prober (not the PROBE_ALLOW_CIDRS test's). */
function latest(name: string): ProbeResult | undefined {
  return stack
    .resultsFor((services[name] as Service).service_id)
    .filter((result) => result.prober_id !== 'narrowed')
    .at(-1);
}

const startMainProber = (): Promise<AppProcess> => stack.startProber({ LOG_LEVEL: 'info' });

beforeAll(async () => {
  targets = await startTargetServer();
  listener = await startTcpListener();
  closedPort = await freePort();
  stack = await startStack();
  prober = await startMainProber();
  for (const [name, spec] of Object.entries(CASES)) {
    const check =
      spec.tcp !== undefined
        ? { health_check_tcp: `127.0.0.1:${spec.tcp === 'open' ? listener.port : closedPort}` }
        : { health_check_url: spec.url ?? `${targets.url}${spec.path}` };
    services[name] = await stack.register({
      name: `probe-${name}`,
      host: '127.0.0.1',
      port: 20_000 + Object.keys(services).length,
      health_check_interval: spec.interval ?? 1,
      health_check_timeout: 1,
      ...check,
    });
  }
});

afterAll(async () => {
  await stack?.dispose();
  await targets?.close();
  await listener?.close();
});

/** Each test that reads the latest results waits for them itself, so it does not rely on running after the first. */
const everyTargetReported = (): Promise<unknown> =>
  waitFor('a result for every target', () => Object.keys(CASES).every((name) => latest(name) !== undefined), 8000);

describe('scheduled checks', () => {
  it('publishes a result for every target, within about one interval', async () => {
    await everyTargetReported();
  });

  it("reports healthy with seed 004's load, degraded, high load and 500 as they are", async () => {
    await everyTargetReported();
    expect(latest('healthy')).toMatchObject({
      kind: 'http',
      ok: true,
      health: 'healthy',
      outcome: 'healthy',
      status_code: 200,
      load: 0.3,
      error: null,
    });
    expect(latest('degraded')).toMatchObject({ ok: true, health: 'degraded', outcome: 'degraded', status_code: 200 });
    expect(latest('loaded')).toMatchObject({ health: 'healthy', load: 0.93 });
    expect(latest('error500')).toMatchObject({ ok: false, health: 'unhealthy', outcome: 'unhealthy', status_code: 500 });
  });

  it('stamps each result with its target, prober, time and version', async () => {
    await everyTargetReported();
    const event = stack.results.messages.find((message) => message.data.result.service_id === services.healthy?.service_id)?.data;
    expect(event).toMatchObject({ v: 1, type: 'probe.result' });
    const result = event?.result as ProbeResult;
    expect(result.target).toBe(`${targets.url}/healthy`);
    expect(result.prober_id).toMatch(/.+/);
    expect(Date.parse(result.checked_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(result.response_time_ms).toBeGreaterThan(0);
    expect(Math.round(result.response_time_ms * 100) / 100).toBe(result.response_time_ms);
    expect(targets.userAgents()).toContain('beacon-health-prober/0.1.0');
  });

  it('times out a slow target, follows 2 redirects, and calls 4 an error', async () => {
    await everyTargetReported();
    expect(latest('slow')).toMatchObject({ ok: false, health: 'unhealthy', outcome: 'timeout', status_code: null });
    expect(latest('slow')?.response_time_ms).toBeLessThan(1500);
    expect(latest('redirect2')).toMatchObject({ outcome: 'healthy', status_code: 200 });
    expect(latest('redirect4')).toMatchObject({ ok: false, outcome: 'error', error: 'more than 3 redirects' });
  });

  it('reads a 10 MB body only up to the cap', async () => {
    await everyTargetReported();
    expect(latest('big')).toMatchObject({ outcome: 'healthy', status_code: 200 });
    expect(latest('big')?.response_time_ms).toBeLessThan(500);
    expect(targets.bigFinished()).toBe(false);
  });

  it('checks TCP targets: a listening port is healthy, a closed one an error', async () => {
    await everyTargetReported();
    expect(latest('tcpOpen')).toMatchObject({
      kind: 'tcp',
      target: `127.0.0.1:${listener.port}`,
      ok: true,
      health: 'healthy',
      outcome: 'healthy',
    });
    expect(latest('tcpClosed')).toMatchObject({ kind: 'tcp', ok: false, health: 'unhealthy', outcome: 'error', error: 'ECONNREFUSED' });
  });

  it('refuses the metadata address at once, without contacting it', async () => {
    await everyTargetReported();
    const refused = latest('metadata');
    expect(refused).toMatchObject({ ok: false, health: 'unhealthy', outcome: 'refused', status_code: null });
    expect(refused?.error).toContain('169.254.0.0/16');
    expect(refused?.response_time_ms).toBeLessThan(50);
  });

  it('keeps checking on the interval, one target at a time', async () => {
    const id = services.healthy?.service_id as string;
    const started = Date.now();
    await waitFor('the target checked', () => stack.resultsFor(id).some((result) => Date.parse(result.checked_at) >= started), 8000);
    const before = stack.resultsFor(id).length;
    await sleep(2500); // the interval observed
    const after = stack.resultsFor(id).length - before;
    expect(after).toBeGreaterThanOrEqual(2);
    expect(after).toBeLessThanOrEqual(4);
  });

  it('stops checking a service that is deregistered', async () => {
    const { service_id: id } = await stack.register({
      name: 'probe-gone',
      host: '127.0.0.1',
      port: 20_100,
      health_check_url: `${targets.url}/healthy`,
      health_check_interval: 1,
      health_check_timeout: 1,
    });
    await waitFor('the service checked', () => stack.resultsFor(id).length > 0, 8000);
    const response = await fetch(`${stack.base}/services/${id}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    await sleep(300); // a check already under way may still report
    const count = stack.resultsFor(id).length;
    await sleep(1500); // a quiet period: no check after that
    expect(stack.resultsFor(id).length).toBe(count);
  });
});

describe('on-demand check (beacon.prober.check)', () => {
  it('checks now and replies with the result, publishing it too', async () => {
    const slowInterval = await stack.register({
      name: 'probe-on-demand',
      host: '127.0.0.1',
      port: 21_000,
      health_check_url: `${targets.url}/loaded`,
      health_check_interval: 3600,
      health_check_timeout: 1,
    });
    await waitFor('the prober to see the service', async () => {
      const reply = await stack.request<{ error: unknown }>(Subjects.proberCheck, { service_id: slowInterval.service_id, publish: false });
      // A result's `error` is a string or null; a refusal's is an object with a code.
      return typeof reply.error !== 'object' || reply.error === null;
    });
    const quiet = await stack.request<ProbeResult & { v: number }>(Subjects.proberCheck, {
      service_id: slowInterval.service_id,
      publish: false,
    });
    expect(quiet).toMatchObject({ v: 1, service_id: slowInterval.service_id, kind: 'http', outcome: 'healthy', load: 0.93 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stack.resultsFor(slowInterval.service_id)).toHaveLength(0);

    const reply = await stack.request<ProbeResult & { v: number }>(Subjects.proberCheck, { service_id: slowInterval.service_id });
    expect(reply).toMatchObject({ v: 1, outcome: 'healthy', status_code: 200 });
    const published = await waitFor('the published result', () => stack.resultsFor(slowInterval.service_id).at(0));
    expect(published.checked_at).toBe(reply.checked_at);
  });

  it('answers not_found for a service it does not know, bad_request for one without a check or a bad request', async () => {
    const unknown = await stack.request<{ v: number; error: { code: string; message: string } }>(Subjects.proberCheck, {
      service_id: randomUUID(),
    });
    expect(unknown).toMatchObject({ v: 1, error: { code: 'not_found' } });

    const plain = await stack.register({ name: 'probe-no-check', host: '127.0.0.1', port: 21_001 });
    const noCheck = await waitFor('the prober to see the plain service', async () => {
      const reply = await stack.request<{ error: { code: string; message: string } }>(Subjects.proberCheck, {
        service_id: plain.service_id,
      });
      return reply.error.code === 'not_found' ? undefined : reply;
    });
    expect(noCheck.error).toEqual({
      code: 'bad_request',
      message: `service ${plain.service_id} has no health_check_url or health_check_tcp`,
    });

    const invalid = await stack.request<{ error: { code: string } }>(Subjects.proberCheck, { service_id: 'not-a-uuid' });
    expect(invalid.error.code).toBe('bad_request');
  });
});

describe('metrics', () => {
  it('counts probes by outcome, times them by kind, and shows owned targets', async () => {
    // The prober running now has checked the kinds counted below.
    const text = await waitFor('probes counted', async () => {
      const body = await (await fetch(`${prober.url}/metrics`)).text();
      const counted = [/outcome="healthy"[^}]*\} [1-9]/, /outcome="refused"[^}]*\} [1-9]/, /kind="tcp"[^}]*\} [1-9]/];
      return counted.every((pattern) => pattern.test(body)) ? body : undefined;
    });
    expect(text).toMatch(/beacon_probes_total\{outcome="healthy",app="health-prober"\} [1-9]/);
    expect(text).toMatch(/beacon_probes_total\{outcome="refused",app="health-prober"\} [1-9]/);
    expect(text).toMatch(/beacon_probe_duration_seconds_count\{[^}]*kind="tcp"[^}]*\} [1-9]/);
    expect(text).toMatch(/beacon_prober_owned_targets\{app="health-prober"\} \d+/);
    expect(text).toContain('beacon_probes_in_flight');
  });
});

describe('PROBE_ALLOW_CIDRS', () => {
  it('refuses a 127.0.0.1 target when only 10.0.0.0/8 is allowed', async () => {
    expect(await prober.stop('SIGTERM')).toBe(0);
    const narrowed = await stack.startProber({ PROBE_ALLOW_CIDRS: '10.0.0.0/8', MEMBER_ID: 'narrowed' });
    const id = services.healthy?.service_id as string;
    const refused = await waitFor(
      'a refused result from the narrowed prober',
      () => stack.resultsFor(id).find((result) => result.prober_id === 'narrowed'),
      8000,
    );
    expect(refused).toMatchObject({ ok: false, outcome: 'refused', health: 'unhealthy' });
    expect(refused.error).toContain('outside the allowed ranges 10.0.0.0/8 (PROBE_ALLOW_CIDRS)');
    await narrowed.stop('SIGTERM');
    // The suite's own prober again, so no test depends on running before this one.
    prober = await startMainProber();
  });
});
