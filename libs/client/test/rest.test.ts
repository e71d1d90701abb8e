import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, startRegistry, uniqueName, type RegistryFixture } from '@beacon/testing';
import WS from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Beacon, BeaconError, buildQuery } from '../src';

const TOKEN = 'sdk-test-token-0123456789';

/** The awaited call's BeaconError (fails the test when it resolves or throws something else). */
async function errorOf(call: Promise<unknown>): Promise<BeaconError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BeaconError);
  return error as BeaconError;
}

describe('Beacon REST methods against a real registry-api', () => {
  let registry: RegistryFixture;
  let beacon: Beacon;

  beforeAll(async () => {
    registry = await startRegistry({ env: { BEACON_AUTH_TOKEN: TOKEN } });
    beacon = new Beacon({ url: `${registry.api.url}/`, token: TOKEN });
  });
  afterAll(async () => {
    await registry?.dispose();
  });

  it("takes the ws package's and the global WebSocket class (a compile-time check as much as a runtime one)", () => {
    expect(new Beacon({ url: registry.api.url, WebSocket: WS }).url).toBe(registry.api.url);
    expect(new Beacon({ url: registry.api.url, WebSocket: globalThis.WebSocket }).url).toBe(registry.api.url);
  });

  it('normalizes the URL and builds queries as the API reads them', () => {
    expect(beacon.url).toBe(registry.api.url);
    expect(buildQuery({ type: 'api', tags: ['a', 'b'], metadata: { rack: 'r1', zone: 'z 2' }, skip: undefined, limit: 5 })).toBe(
      '?type=api&tags=a%2Cb&metadata.rack=r1&metadata.zone=z+2&limit=5',
    );
    expect(buildQuery({ tags: [] })).toBe('');
  });

  it('registers, reads, filters, updates, heartbeats and deregisters', async () => {
    const name = uniqueName('sdk-rest');
    const service = await beacon.registerOnce({
      name,
      host: '127.0.0.1',
      port: 7001,
      type: 'api',
      tags: ['a', 'b'],
      metadata: { rack: 'r1' },
      ttl: 60,
    });
    expect(service).toMatchObject({ name, host: '127.0.0.1', port: 7001, type: 'api', ttl: 60, status: 'active' });
    await beacon.registerOnce({ name, host: '127.0.0.1', port: 7002, type: 'api', tags: ['a'], metadata: { rack: 'r2' } });

    expect((await beacon.get(service.service_id)).service_id).toBe(service.service_id);
    const byTags = await beacon.discover({ name, tags: ['a', 'b'] });
    expect(byTags.map((s) => s.port)).toEqual([7001]);
    const byMeta = await beacon.discover({ name, metadata: { rack: 'r2' } });
    expect(byMeta.map((s) => s.port)).toEqual([7002]);
    const page = await beacon.list({ name, limit: 1 });
    expect(page).toMatchObject({ total: 2, page_size: 1 });
    expect(page.services).toHaveLength(1);

    const updated = await beacon.update(service.service_id, { status: 'inactive', tags: ['c'] });
    expect(updated).toMatchObject({ status: 'inactive', tags: ['c'] });
    expect((await beacon.discover({ name })).map((s) => s.port)).toEqual([7002]);
    expect((await beacon.discover({ name, status: 'inactive' })).map((s) => s.port)).toEqual([7001]);

    const beat = await beacon.heartbeat(service.service_id, 90);
    expect(beat.service_id).toBe(service.service_id);
    // The heartbeat's ttl sets this expiry (the record's own ttl stays 60).
    expect(Date.parse(beat.expires_at) - Date.now()).toBeGreaterThan(75_000);

    await beacon.deregister(service.service_id);
    const gone = await errorOf(beacon.get(service.service_id));
    expect(gone.code).toBe('not_found');
  });

  it('reads checks, uptime, pings, stats and health', async () => {
    const service = await beacon.registerOnce({ name: uniqueName('sdk-read'), host: '127.0.0.1', port: 7003 });
    expect(await beacon.checks(service.service_id, 5)).toHaveProperty('checks');
    expect(await beacon.uptime(service.service_id)).toHaveProperty('service_id', service.service_id);
    expect(await beacon.pings(service.service_id, 5)).toHaveProperty('pings');
    const stats = await beacon.stats();
    expect(stats.services.total).toBeGreaterThanOrEqual(1);
    // No check configured: 409, said so in the detail.
    const noCheck = await errorOf(beacon.check(service.service_id));
    expect(noCheck).toMatchObject({ code: 'conflict', status: 409, method: 'POST' });
    expect(noCheck.detail).toMatch(/check/i);
    const health = await beacon.health();
    expect(health.database.backend).toBe('sqlite');
  });

  it('lists incidents and answers not_found for an unknown one', async () => {
    const list = await beacon.incidents.list({ status: 'open', limit: 5 });
    expect(list).toMatchObject({ limit: 5, skip: 0 });
    expect(Array.isArray(list.incidents)).toBe(true);
    const missing = await errorOf(beacon.incidents.get('00000000-0000-4000-8000-000000000000'));
    expect(missing.code).toBe('not_found');
    const resolve = await errorOf(beacon.incidents.resolve('00000000-0000-4000-8000-000000000000', 'done'));
    expect(resolve.status).toBe(404);
  });

  it('creates, reads, updates (keeping what is not given), lists and removes a webhook', async () => {
    const created = await beacon.webhooks.create({
      url: 'http://127.0.0.1:9/hook',
      events: ['service_registered'],
      description: 'sdk test',
      secret: 'a-secret-of-16-chars-or-more',
    });
    expect(created).toMatchObject({ url: 'http://127.0.0.1:9/hook', has_secret: true, enabled: true });
    const updated = await beacon.webhooks.update(created.webhook_id, { enabled: false });
    expect(updated).toMatchObject({ enabled: false, description: 'sdk test', has_secret: true, events: ['service_registered'] });
    expect((await beacon.webhooks.get(created.webhook_id)).enabled).toBe(false);
    expect((await beacon.webhooks.list()).webhooks.map((w) => w.webhook_id)).toContain(created.webhook_id);
    expect((await beacon.webhooks.deliveries(created.webhook_id, { limit: 5 })).deliveries).toEqual([]);
    // No realtime-gateway runs here to send the sample: the registry says so.
    const test = await errorOf(beacon.webhooks.test(created.webhook_id));
    expect(test.code).toBe('unavailable');
    expect(test.detail.length).toBeGreaterThan(10);
    await beacon.webhooks.remove(created.webhook_id);
    expect((await errorOf(beacon.webhooks.get(created.webhook_id))).code).toBe('not_found');
  });

  it("passes a 400's detail through", async () => {
    const error = await errorOf(beacon.registerOnce({ name: uniqueName('sdk-bad'), host: '127.0.0.1', port: 70_000 }));
    expect(error).toMatchObject({ code: 'bad_request', status: 400, method: 'POST', path: '/api/v1/services/register' });
    expect(error.detail).toMatch(/port/);
    expect(error.body).toHaveProperty('detail', error.detail);
  });

  it('answers unauthorized when a mutation lacks the token (reads need none)', async () => {
    const anonymous = new Beacon({ url: registry.api.url, token: '' });
    expect(Array.isArray(await anonymous.discover())).toBe(true);
    const error = await errorOf(anonymous.registerOnce({ name: uniqueName('sdk-anon'), host: '127.0.0.1', port: 7004 }));
    expect(error.code).toBe('unauthorized');
    expect(error.status).toBe(401);
    const wrong = new Beacon({ url: registry.api.url, token: 'not-the-token-at-all' });
    expect((await errorOf(wrong.deregister('00000000-0000-4000-8000-000000000000'))).code).toBe('unauthorized');
  });

  it('answers network, naming the URL, when nothing listens', async () => {
    const port = await freePort();
    const closed = new Beacon({ url: `http://127.0.0.1:${port}` });
    const error = await errorOf(closed.stats());
    expect(error).toMatchObject({ code: 'network', status: 0 });
    expect(error.detail).toContain(`http://127.0.0.1:${port}/api/v1/stats`);
  });

  it('answers protocol when a 2xx body is not JSON, and keeps a non-JSON error page as the detail', async () => {
    const server = createServer((request, response) => {
      const failing = request.url?.startsWith('/api/v1/health');
      response.writeHead(failing ? 502 : 200, { 'content-type': 'text/html' });
      response.end('<html>proxy page</html>');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      const proxied = new Beacon({ url: `http://127.0.0.1:${port}` });
      const error = await errorOf(proxied.stats());
      expect(error).toMatchObject({ code: 'protocol', status: 200, body: '<html>proxy page</html>' });
      expect(error.detail).toMatch(/not JSON/);
      const bad = await errorOf(proxied.health());
      expect(bad).toMatchObject({ code: 'unavailable', status: 502 });
      expect(bad.detail).toContain('HTTP 502');
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
