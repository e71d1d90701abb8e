import { EVENTS_STREAM, type Service, type ServiceListResponse } from '@beacon/contracts';
import { fetchJson, freePort, startApp, startRegistry, uniqueName, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Beacon } from '../src/beacon';
import { Watch, type WatchChange, type WatchFilter } from '../src/watch';

/**
 * The watch against real processes: registry-api, realtime-gateway (killed and restarted on
 * its port), nats-server. Every comparison is with the registry's own list.
 */
let registry: RegistryFixture;
let gateway: AppProcess;
let gatewayEnv: Record<string, string>;
let nats: NatsConnection;
const watches: Watch[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  gatewayEnv = { NATS_URL: registry.nats.url, HTTP_PORT: String(await freePort()) };
  gateway = await startApp('realtime-gateway', { env: gatewayEnv, portVariable: 'HTTP_PORT', readyPath: '/ready' });
  nats = await connect({ servers: registry.nats.url });
});

afterAll(async () => {
  await Promise.all(watches.map((watch) => watch.close()));
  await nats?.close();
  await gateway?.stop();
  await registry?.dispose();
});

function watchOf(filter: WatchFilter): { watch: Watch; changes: WatchChange[] } {
  const watch = new Watch({ url: gateway.url }, filter, { reconnectMinMs: 100, reconnectMaxMs: 1_000 });
  watches.push(watch);
  const changes: WatchChange[] = [];
  watch.onChange((change) => changes.push(change));
  return { watch, changes };
}

async function catalog(query: string): Promise<Service[]> {
  const answer = await fetchJson<ServiceListResponse>('GET', `${registry.base}/services?${query}&limit=100`);
  expect(answer.status).toBe(200);
  return answer.body.services;
}

/** id → `revision status` for an exact comparison that prints well. */
const summary = (services: Service[]): Record<string, string> =>
  Object.fromEntries(
    [...services].sort((a, b) => a.service_id.localeCompare(b.service_id)).map((s) => [s.service_id, `${s.revision} ${s.status}`]),
  );

async function sameAsCatalog(watch: Watch, query: string): Promise<void> {
  // The last change reaches the watch a WebSocket delay after the registry answered.
  await waitFor(
    `the watch to equal the catalog (${query})`,
    async () => {
      const expected = summary(await catalog(query));
      return JSON.stringify(summary(watch.services())) === JSON.stringify(expected);
    },
    20_000,
  );
  expect(summary(watch.services())).toEqual(summary(await catalog(query)));
}

const update = async (id: string, patch: Record<string, unknown>): Promise<void> => {
  expect((await fetchJson('PUT', `${registry.base}/services/${id}`, patch)).status).toBe(200);
};
const remove = async (id: string): Promise<void> => {
  expect((await fetchJson('DELETE', `${registry.base}/services/${id}`)).status).toBe(204);
};

describe('Watch', () => {
  it('sees every change after a gateway restart (kill -9, then SIGTERM), with no gap and no duplicate', async () => {
    const type = uniqueName('restart');
    const registerOne = async (): Promise<Service> => registry.register({ type, ttl: 3600 });
    const before = await Promise.all([registerOne(), registerOne(), registerOne()]);
    const { watch, changes } = watchOf({ type });
    const states: string[] = [];
    watch.on('connected', () => states.push('connected'));
    watch.on('disconnected', () => states.push('disconnected'));
    await watch.ready;
    // The snapshot is the gateway's copy; registrations it had not applied yet follow it as events.
    await sameAsCatalog(watch, `type=${type}`);
    expect(Object.keys(summary(watch.services())).sort()).toEqual(before.map((s) => s.service_id).sort());

    const registered: Service[] = [];
    for (const [round, signal] of (['SIGKILL', 'SIGTERM'] as const).entries()) {
      registered.push(await registerOne(), await registerOne());
      await update(registered[registered.length - 1]!.service_id, { version: `before-${signal}` });
      await sameAsCatalog(watch, `type=${type}`);

      await gateway.stop(signal);
      await waitFor('the watch to notice the drop', () => states.at(-1) === 'disconnected');
      // Changes while the gateway is down: the resume must replay them.
      registered.push(await registerOne(), await registerOne());
      await update(registered[0]!.service_id, { version: `during-${signal}`, tags: ['moved'] });
      await remove(registered[registered.length - 2]!.service_id);
      gateway = await startApp('realtime-gateway', { env: gatewayEnv, portVariable: 'HTTP_PORT', readyPath: '/ready' });
      await waitFor('the watch to reconnect', () => states.at(-1) === 'connected', 20_000);
      registered.push(await registerOne());
      await remove(before[round]!.service_id);
      await sameAsCatalog(watch, `type=${type}`);
    }

    // Each id registered after the snapshot arrived exactly once as service_registered.
    const registrations = changes.filter((c) => c.kind === 'upsert' && c.event === 'service_registered');
    const counts = new Map<string, number>();
    for (const change of registrations)
      if (change.kind === 'upsert') counts.set(change.service.service_id, (counts.get(change.service.service_id) ?? 0) + 1);
    const expected: Record<string, number> = Object.fromEntries(registered.map((s) => [s.service_id, 1]));
    // One registered just before the watch may have come right after its snapshot: then once, too.
    for (const service of before) if (counts.has(service.service_id)) expected[service.service_id] = 1;
    expect(Object.fromEntries(counts)).toEqual(expected);
    // And no change was applied twice: every upsert of an id carries a newer revision than the one before.
    const lastRevision = new Map<string, number>();
    for (const change of changes) {
      if (change.kind !== 'upsert' || change.event === 'service_heartbeat') continue;
      expect(change.service.revision).toBeGreaterThan(lastRevision.get(change.service.service_id) ?? 0);
      lastRevision.set(change.service.service_id, change.service.revision);
    }
    expect(changes.filter((c) => c.kind === 'snapshot')).toHaveLength(1);
    expect(states.filter((s) => s === 'disconnected')).toHaveLength(2);
    expect(watch.seq).toBeGreaterThan(0);
  }, 120_000);

  it('takes a snapshot again after a drop when no live event came after its snapshot (a resume could skip what followed it)', async () => {
    const type = uniqueName('idle');
    await registry.register({ type, ttl: 3600 });
    const { watch, changes } = watchOf({ type });
    await watch.ready;
    await gateway.stop('SIGKILL');
    const during = await registry.register({ type, ttl: 3600 });
    gateway = await startApp('realtime-gateway', { env: gatewayEnv, portVariable: 'HTTP_PORT', readyPath: '/ready' });
    await sameAsCatalog(watch, `type=${type}`);
    expect(changes.filter((c) => c.kind === 'snapshot')).toHaveLength(2);
    expect(watch.get(during.service_id)?.revision).toBe(during.revision);
  }, 60_000);

  it('takes a snapshot again when the event stream is deleted and recreated (1012), equal to the catalog', async () => {
    const type = uniqueName('resync');
    const { watch, changes } = watchOf({ type });
    let resyncs = 0;
    watch.on('resync', () => (resyncs += 1));
    await Promise.all([registry.register({ type, ttl: 3600 }), registry.register({ type, ttl: 3600 })]);
    await watch.ready;
    await sameAsCatalog(watch, `type=${type}`);
    const jsm = await nats.jetstreamManager();
    const { config } = await jsm.streams.info(EVENTS_STREAM);
    await jsm.streams.delete(EVENTS_STREAM);
    await jsm.streams.add(config);
    // The gateway checks the stream every 2 s; a purge keeps the stream's positions, recreating starts them over.
    await waitFor('the resync', () => resyncs === 1, 30_000);
    expect(changes.filter((c) => c.kind === 'snapshot')).toHaveLength(2);
    // Positions started over: new events after the purge still arrive.
    const after = await registry.register({ type, ttl: 3600 });
    await sameAsCatalog(watch, `type=${type}`);
    expect(watch.get(after.service_id)?.revision).toBe(after.revision);
  }, 60_000);

  it('holds only what its filter matches (type and tags), through Beacon.watch() with the gateway on its own URL', async () => {
    const type = uniqueName('filter');
    const watch = new Beacon({ url: registry.api.url }).watch({ type, tags: ['blue', 'eu'] }, { url: gateway.url });
    watches.push(watch);
    await watch.ready;
    const wanted = await registry.register({ type, tags: ['blue', 'eu', 'extra'], ttl: 3600 });
    await registry.register({ type, tags: ['blue'], ttl: 3600 });
    await registry.register({ type: uniqueName('other'), tags: ['blue', 'eu'], ttl: 3600 });
    const later = await registry.register({ type, tags: ['eu', 'blue'], ttl: 3600 });
    await sameAsCatalog(watch, `type=${type}&tags=blue,eu`);
    expect(
      watch
        .services()
        .map((s) => s.service_id)
        .sort(),
    ).toEqual([wanted.service_id, later.service_id].sort());
  });

  it('sends its token: as a header through the ws package, in the query through a given WebSocket', async () => {
    const guarded = await startApp('realtime-gateway', {
      env: { NATS_URL: registry.nats.url, BEACON_AUTH_TOKEN: 'watch-secret' },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
    });
    try {
      const type = uniqueName('token');
      await registry.register({ type, ttl: 3600 });
      const header = new Watch({ url: guarded.url, token: 'watch-secret' }, { type });
      const query = new Watch({ url: guarded.url, token: 'watch-secret', WebSocket }, { type });
      const refused = new Watch({ url: guarded.url, token: 'wrong' }, { type }, { reconnectMinMs: 100 });
      watches.push(header, query, refused);
      await Promise.all([header.ready, query.ready]);
      expect(header.services()).toHaveLength(1);
      expect(query.services()).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await refused.close();
      await expect(refused.ready).rejects.toThrow(/closed before/);
    } finally {
      await guarded.stop();
    }
  });

  it('rejects ready only when closed before its first snapshot, and leaves nothing running', async () => {
    const port = await freePort(); // nothing listens: it keeps retrying
    const watch = new Watch({ url: `http://127.0.0.1:${port}` }, {}, { reconnectMinMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await watch.close();
    await expect(watch.ready).rejects.toThrow(/closed before its first snapshot/);
    expect(watch.services()).toEqual([]);
    // A URL that cannot become a WebSocket address will not fix itself: ready rejects at once.
    const broken = new Watch({ url: 'not a url' });
    await expect(broken.ready).rejects.toThrow(/Invalid URL/);
  });
});

describe('Watch against a gateway that misbehaves', () => {
  let server: Server;
  let sockets: WebSocketServer;
  const urls: string[] = [];
  const record = (id: string, revision: number): Record<string, unknown> => ({
    service_id: id,
    name: 'x',
    type: 'http',
    tags: [],
    status: 'active',
    health: 'unknown',
    expires_at: new Date(Date.now() + 60_000).toISOString(),
    revision,
  });

  beforeAll(async () => {
    server = createServer();
    sockets = new WebSocketServer({ server });
    sockets.on('connection', (socket, request) => {
      urls.push(request.url ?? '');
      socket.send('not json');
      socket.send('{"type":"snapshot","data":7}');
      socket.send(JSON.stringify({ type: 'service_registered', data: { service_id: 42 }, seq: 1, revision: 1 }));
      socket.send(
        JSON.stringify({ type: 'snapshot', data: { services: [record('a', 5), { service_id: 'no-revision' }] }, seq: 10, revision: 5 }),
      );
      socket.send(new Uint8Array([0xff, 0xfe]));
      // Older than what the snapshot holds: ignored; newer: applied.
      socket.send(JSON.stringify({ type: 'service_updated', data: { ...record('a', 4), version: 'old' }, seq: 11, revision: 4 }));
      socket.send(JSON.stringify({ type: 'service_updated', data: { ...record('a', 6), version: 'new' }, seq: 12, revision: 6 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const client of sockets.clients) client.terminate();
    await new Promise((resolve) => sockets.close(resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('drops a connection that stays silent for two ping intervals and resumes after the last position', async () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const before = urls.length;
    // This server never answers a ping: after its burst of messages it says nothing.
    const watch = new Watch({ url: `http://127.0.0.1:${port}` }, { type: 'x' }, { pingIntervalMs: 150, reconnectMinMs: 50 });
    watches.push(watch);
    let drops = 0;
    watch.on('disconnected', () => (drops += 1));
    await watch.ready;
    await waitFor('a drop and a resume', () => drops >= 1 && urls.length >= before + 2, 10_000);
    await watch.close();
    const [first, second] = urls.slice(before).map((url) => new URLSearchParams(url.split('?')[1]));
    expect(first?.get('snapshot')).toBe('true');
    expect(first?.get('type')).toBe('x');
    expect(second?.get('since')).toBe('12');
    expect(second?.has('snapshot')).toBe(false);
  });

  it('ignores malformed messages and older revisions without throwing', async () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const watch = new Watch({ url: `http://127.0.0.1:${port}` });
    watches.push(watch);
    await watch.ready;
    await waitFor('the newer update', () => watch.seq === 12);
    expect(watch.services().map((s) => [s.service_id, s.revision, s.version])).toEqual([['a', 6, 'new']]);
  });
});
