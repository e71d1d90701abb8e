import { freePort } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpCheck } from '../src/checks/http-check';
import { TcpCheck } from '../src/checks/tcp-check';
import { DEFAULT_DENY_CIDRS } from '../src/config';
import { SsrfGuard } from '@beacon/platform';
import { BIG_BODY_BYTES, startBlackhole, startTargetServer, startTcpListener, type TargetServer } from './target-server';

/**
 * The HTTP and TCP checks in-process against real local servers: every outcome, the body
 * cap, keep-alive and the SSRF guard, without NATS or app processes.
 */
const DEFAULT_DENY = DEFAULT_DENY_CIDRS;
const guard = new SsrfGuard({ deny: DEFAULT_DENY, allow: [] });
const http = new HttpCheck(guard, { userAgent: 'beacon-health-prober/test', maxBodyBytes: 64 * 1024 });
const tcp = new TcpCheck(guard);
let targets: TargetServer;
let listener: Awaited<ReturnType<typeof startTcpListener>>;
let blackhole: Awaited<ReturnType<typeof startBlackhole>>;

beforeAll(async () => {
  targets = await startTargetServer();
  listener = await startTcpListener();
  blackhole = await startBlackhole();
});

afterAll(async () => {
  http.onApplicationShutdown();
  blackhole?.close();
  await targets?.close();
  await listener?.close();
});

describe('HTTP check', () => {
  it("reads seed 004's healthy body with its load, sending our user-agent", async () => {
    expect(await http.check(`${targets.url}/healthy`, 1000)).toEqual({
      ok: true,
      health: 'healthy',
      outcome: 'healthy',
      status_code: 200,
      load: 0.3,
      error: null,
    });
    expect(targets.userAgents().at(-1)).toBe('beacon-health-prober/test');
  });

  it('reports degraded, high load, and 500 as the body and status say', async () => {
    expect(await http.check(`${targets.url}/degraded`, 1000)).toMatchObject({ ok: true, health: 'degraded', outcome: 'degraded' });
    expect(await http.check(`${targets.url}/loaded`, 1000)).toMatchObject({ health: 'healthy', load: 0.93 });
    expect(await http.check(`${targets.url}/error`, 1000)).toMatchObject({
      ok: false,
      health: 'unhealthy',
      outcome: 'unhealthy',
      status_code: 500,
    });
  });

  it('times out at the check timeout', async () => {
    const started = Date.now();
    expect(await http.check(`${targets.url}/slow`, 300)).toMatchObject({
      ok: false,
      outcome: 'timeout',
      health: 'unhealthy',
      status_code: null,
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('leaves no timer or listener behind that fires after a check has ended', async () => {
    // A late timeout on a finished request once crashed the process with an unhandled 'error'.
    for (const path of ['/healthy', '/redirect/2', '/big', '/error']) await http.check(`${targets.url}${path}`, 200);
    await new Promise((resolve) => setTimeout(resolve, 400));
  });

  it('follows up to 3 redirects, and calls more an error', async () => {
    expect(await http.check(`${targets.url}/redirect/2`, 1000)).toMatchObject({ outcome: 'healthy', status_code: 200 });
    expect(await http.check(`${targets.url}/redirect/3`, 1000)).toMatchObject({ outcome: 'healthy' });
    expect(await http.check(`${targets.url}/redirect/4`, 1000)).toMatchObject({
      ok: false,
      outcome: 'error',
      error: 'more than 3 redirects',
    });
  });

  it('stops reading a 10 MB body at the cap instead of downloading it', async () => {
    const started = Date.now();
    expect(await http.check(`${targets.url}/big`, 5000)).toMatchObject({ outcome: 'healthy', status_code: 200, load: null });
    expect(Date.now() - started).toBeLessThan(1000);
    // The server never got to the end: the client hung up after the cap (what it wrote is kernel socket buffers).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(targets.bigFinished()).toBe(false);
    expect(targets.bigBytesSent()).toBeLessThan(BIG_BODY_BYTES);
  });

  it('reuses one keep-alive connection for checks of the same target', async () => {
    await http.check(`${targets.url}/healthy`, 1000);
    const before = targets.connections();
    for (let index = 0; index < 5; index += 1) await http.check(`${targets.url}/healthy`, 1000);
    expect(targets.connections()).toBe(before);
  });

  it('reports a refused connection as an error with its code', async () => {
    const port = await freePort();
    expect(await http.check(`http://127.0.0.1:${port}/health`, 1000)).toMatchObject({ ok: false, outcome: 'error', error: 'ECONNREFUSED' });
  });
});

describe('SSRF guard in the HTTP check', () => {
  it('refuses a metadata IP literal without contacting it', async () => {
    const started = performance.now();
    const outcome = await http.check('http://169.254.169.254/latest/meta-data', 5000);
    expect(outcome).toMatchObject({ ok: false, health: 'unhealthy', outcome: 'refused', status_code: null });
    expect(outcome.error).toContain('169.254.0.0/16');
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('refuses the IPv4-mapped IPv6 spelling and link-local IPv6', async () => {
    expect(await http.check('http://[::ffff:169.254.169.254]/latest/meta-data', 5000)).toMatchObject({ outcome: 'refused' });
    expect(await http.check('http://[fe80::1]/', 5000)).toMatchObject({ outcome: 'refused' });
  });

  it('refuses the unspecified address in every spelling (it would reach the local target server)', async () => {
    const before = targets.connections();
    for (const host of ['0', '0.0.0.0', '0x0', '[::]', '[::ffff:0.0.0.0]']) {
      const outcome = await http.check(`http://${host}:${targets.port}/healthy`, 1000);
      expect(outcome, host).toMatchObject({ outcome: 'refused' });
      expect(outcome.error, host).toContain('always refused');
    }
    expect(targets.connections()).toBe(before);
  });

  it('refuses a redirect into a denied range', async () => {
    const outcome = await http.check(`${targets.url}/to-metadata`, 5000);
    expect(outcome).toMatchObject({ outcome: 'refused' });
    expect(outcome.error).toContain('169.254.169.254 is in denied range');
  });

  it('with an allow list, refuses a literal and a name resolving outside it', async () => {
    const narrow = new HttpCheck(new SsrfGuard({ deny: DEFAULT_DENY, allow: ['10.0.0.0/8'] }), { userAgent: 't', maxBodyBytes: 1024 });
    const before = targets.connections();
    try {
      expect(await narrow.check(`${targets.url}/healthy`, 1000)).toMatchObject({ outcome: 'refused' });
      const byName = await narrow.check(`http://localhost:${targets.port}/healthy`, 1000);
      expect(byName).toMatchObject({ outcome: 'refused' });
      expect(byName.error).toMatch(/^localhost: .* is outside the allowed ranges 10\.0\.0\.0\/8 \(PROBE_ALLOW_CIDRS\)$/);
      expect(targets.connections()).toBe(before);
    } finally {
      narrow.onApplicationShutdown();
    }
  });
});

describe('TCP check', () => {
  it('is healthy when the port accepts a connection', async () => {
    expect(await tcp.check(`127.0.0.1:${listener.port}`, 1000)).toEqual({
      ok: true,
      health: 'healthy',
      outcome: 'healthy',
      status_code: null,
      load: null,
      error: null,
    });
    expect(await tcp.check(`localhost:${listener.port}`, 1000)).toMatchObject({ outcome: 'healthy' });
  });

  it('reports a closed port as an error', async () => {
    const port = await freePort();
    expect(await tcp.check(`127.0.0.1:${port}`, 1000)).toMatchObject({ ok: false, outcome: 'error', error: 'ECONNREFUSED' });
  });

  it('times out when the connection is never answered', async (context) => {
    if (!blackhole) return context.skip();
    const started = Date.now();
    expect(await tcp.check(`127.0.0.1:${blackhole.port}`, 300)).toMatchObject({ ok: false, outcome: 'timeout', health: 'unhealthy' });
    expect(Date.now() - started).toBeLessThan(800);
  });

  it('refuses denied targets, literal or resolved', async () => {
    expect(await tcp.check('169.254.169.254:80', 1000)).toMatchObject({ outcome: 'refused' });
    expect(await tcp.check('[::ffff:169.254.169.254]:80', 1000)).toMatchObject({ outcome: 'refused' });
    const narrow = new TcpCheck(new SsrfGuard({ deny: DEFAULT_DENY, allow: ['10.0.0.0/8'] }));
    const accepted = listener.accepted();
    expect(await narrow.check(`localhost:${listener.port}`, 1000)).toMatchObject({ outcome: 'refused' });
    for (const host of ['0', '0x0', '0.0.0.0', '[::]', '[::ffff:0.0.0.0]']) {
      expect(await tcp.check(`${host}:${listener.port}`, 1000), host).toMatchObject({ outcome: 'refused' });
    }
    expect(listener.accepted()).toBe(accepted);
  });
});
