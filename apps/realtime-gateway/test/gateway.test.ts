import { EVENTS_STREAM, Subjects, type ProbeResult, type Service } from '@beacon/contracts';
import {
  SseClient,
  WsClient,
  fetchJson,
  publishJson,
  probeResult,
  publishProbeResult,
  sleep,
  startApp,
  startRegistry,
  uniqueName as unique,
  waitFor,
  type AppProcess,
  type LiveMessage as Message,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Real nats-server, registry-api, ttl-reaper and realtime-gateway processes; changes made over REST. */
let registry: RegistryFixture;
let client: NatsConnection;
let reaper: AppProcess;
let gateway: AppProcess;
let guarded: AppProcess;
let ws: string;

/** A REST change whose answer the test does not need. */
const rest = (method: string, path: string, body?: unknown): Promise<unknown> => fetchJson(method, `${registry.base}${path}`, body);
const register = (extra: Record<string, unknown> = {}): Promise<Service> =>
  registry.register({ name: unique('gw'), host: '10.3.0.1', ...extra });

const probe = (service: Service, overrides: Partial<ProbeResult> = {}): void => publishProbeResult(client, probeResult(service, overrides));

beforeAll(async () => {
  // Registrations pour in faster than a client may send them by default.
  registry = await startRegistry({ env: { BEACON_REGISTRATIONS_PER_SECOND: '0' } });
  const nats = registry.nats;
  client = await connect({ servers: nats.url });
  reaper = await startApp('ttl-reaper', { env: { NATS_URL: nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' });
  const gatewayEnv = { NATS_URL: nats.url, GATEWAY_REPLAY_EVENTS: '100', WS_MAX_BUFFERED_BYTES: '65536', WS_PING_INTERVAL: '1' };
  gateway = await startApp('realtime-gateway', { env: gatewayEnv, portVariable: 'HTTP_PORT', readyPath: '/ready' });
  guarded = await startApp('realtime-gateway', {
    env: { ...gatewayEnv, BEACON_AUTH_TOKEN: 'secret-1,secret-2' },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
  ws = `ws://127.0.0.1:${gateway.port}/api/v1/ws`;
});

afterAll(async () => {
  for (const app of [guarded, gateway, reaper]) await app?.stop();
  await client?.close();
  await registry?.dispose();
});

describe('realtime-gateway over WebSocket', () => {
  it('pushes each seed 000 message type for its action, once and in order', async () => {
    const watcher = await WsClient.connect(
      `${ws}?events=service_registered,service_updated,service_deregistered,service_expired,health_status_changed,critical_load,node_role_changed`,
    );
    const greeting = watcher.messages[0] as Message;
    expect(greeting).toMatchObject({ type: 'connection_established', message: expect.any(String), client_id: expect.any(String) });

    const service = await register({ health_check_url: 'http://10.3.0.9/health', tags: ['order'] });
    await register({
      name: service.name,
      host: service.host,
      port: service.port,
      health_check_url: 'http://10.3.0.9/health',
      tags: ['order', 'again'],
    });
    await rest('PUT', `/services/${service.service_id}`, { version: '2.0' });
    probe(service, { load: 0.95 });
    const short = await register({ ttl: 10 });
    const node = { node_id: 'node-a', role: 'server', server_host: '10.3.0.5', server_port: 8097, fencing_token: 7 };
    publishJson(client, Subjects.nodeRoleChanged, { v: 1, type: 'node.role_changed', timestamp: new Date().toISOString(), node });
    await watcher.waitForEvents(1, (m) => m.type === 'critical_load');
    await rest('DELETE', `/services/${service.service_id}`);

    await watcher.waitForEvents(1, (m) => m.type === 'service_deregistered' && m.data?.service_id === service.service_id);
    expect(watcher.forService(service.service_id).map((m) => m.type)).toEqual([
      'service_registered',
      'service_updated',
      'service_updated',
      'health_status_changed',
      'critical_load',
      'service_deregistered',
    ]);
    const messages = watcher.forService(service.service_id);
    for (const m of messages) {
      expect(m.event).toBe(m.type);
      expect(typeof m.timestamp).toBe('string');
      expect(typeof m.seq).toBe('number');
    }
    expect(messages.map((m) => m.seq)).toEqual([...messages.map((m) => m.seq)].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(messages[0]?.data).toMatchObject({ service_id: service.service_id, name: service.name, host: '10.3.0.1' });
    expect(messages[3]?.data).toMatchObject({ health: 'healthy', previous_health: 'unknown' });
    expect(messages[4]?.data).toMatchObject({ load: 0.95, threshold: 0.8, service_name: service.name });
    expect(messages[5]?.data).toMatchObject({ service_id: service.service_id, service_name: service.name, reason: 'deregistered' });
    expect(watcher.events('node_role_changed')[0]?.data).toEqual(node);

    // The reaper expires the short-lived one.
    const [expired] = await watcher.waitForEvents(1, (m) => m.type === 'service_expired', 15_000);
    expect(expired?.data).toMatchObject({ service_id: short.service_id, status: 'expired' });
    expect(watcher.events('service_heartbeat')).toHaveLength(0);
    watcher.close();
  }, 30_000);

  it('sends heartbeats only when asked for', async () => {
    const quiet = await WsClient.connect(ws);
    const listening = await WsClient.connect(`${ws}?events=service_heartbeat`);
    const service = await register();
    await rest('PUT', `/services/${service.service_id}/heartbeat`);
    const [beat] = await listening.waitForEvents(1);
    expect(beat).toMatchObject({
      type: 'service_heartbeat',
      data: { service_id: service.service_id, expires_at: expect.any(String) },
      seq: null,
    });
    await sleep(200); // a quiet period: no heartbeat should reach the other client
    expect(quiet.events('service_heartbeat')).toHaveLength(0);
    quiet.close();
    listening.close();
  });

  it('applies filters given as parameters and by a subscribe message', async () => {
    const kind = unique('kind');
    const byType = await WsClient.connect(`${ws}?type=${kind}`);
    const byTags = await WsClient.connect(`${ws}?tags=red,blue`);
    const byName = await WsClient.connect(`${ws}?name=only-this-${kind}`);
    const a = await register({ type: kind, tags: ['red'] });
    const b = await register({ tags: ['red', 'blue'] });
    const c = await register({ name: `only-this-${kind}` });
    const byId = await WsClient.connect(`${ws}?service_id=${a.service_id},${c.service_id}`);
    await rest('PUT', `/services/${a.service_id}`, { version: 'x' });
    await rest('PUT', `/services/${b.service_id}`, { version: 'x' });
    await rest('PUT', `/services/${c.service_id}`, { version: 'x' });
    const ids = (c: WsClient): string[] => [...new Set(c.events().map((m) => m.data?.service_id as string))];
    await byId.waitForEvents(2);
    await waitFor('each filter’s service', () => ids(byType).length > 0 && ids(byTags).length > 0 && ids(byName).length > 0);
    await sleep(300); // a quiet period: nothing outside a filter should follow
    expect(ids(byType)).toEqual([a.service_id]);
    expect(ids(byTags)).toEqual([b.service_id]);
    expect(ids(byName)).toEqual([c.service_id]);
    expect(ids(byId).sort()).toEqual([a.service_id, c.service_id].sort());

    byType.send({ type: 'subscribe', events: ['service_deregistered'], filters: { tags: ['blue'] } });
    await waitFor('subscribed', () => byType.messages.some((m) => m.type === 'subscribed'));
    byType.send({ type: 'subscribe', filters: { colour: 'red' } });
    await waitFor('error', () => byType.messages.some((m) => m.type === 'error'));
    await rest('DELETE', `/services/${a.service_id}`);
    await rest('DELETE', `/services/${b.service_id}`);
    await byType.waitForEvents(1, (m) => m.type === 'service_deregistered');
    await sleep(200); // a quiet period: the other removal should not follow
    expect(byType.events('service_deregistered').map((m) => m.data?.service_id)).toEqual([b.service_id]);
    expect((byType.messages.find((m) => m.type === 'error') as Message).message).toMatch(/colour/);
    for (const each of [byType, byTags, byName, byId]) each.close();
  });

  it('continues exactly from a snapshot: no gap, no duplicate, while registrations pour in', async () => {
    const batch = unique('snap');
    let stop = false;
    const registered: string[] = [];
    const writer = (async () => {
      while (!stop) registered.push((await register({ type: batch })).service_id);
    })();
    await waitFor('some registered before the snapshot', () => registered.length >= 3);
    const watcher = await WsClient.connect(`${ws}?snapshot=true&type=${batch}`);
    await waitFor('some registered after the snapshot', () => watcher.events('service_registered').length >= 3);
    stop = true;
    await writer;
    await waitFor('all seen', () => {
      const snapshot = watcher.messages.find((m) => m.type === 'snapshot');
      const fromSnapshot = ((snapshot?.data as { services?: Service[] } | undefined)?.services ?? []).map((s) => s.service_id);
      return fromSnapshot.length + watcher.events('service_registered').length >= registered.length;
    });
    const snapshot = watcher.messages.find((m) => m.type === 'snapshot') as Message;
    const inSnapshot = (snapshot.data as { services: Service[] }).services.map((s) => s.service_id);
    const live = watcher.events('service_registered').map((m) => m.data?.service_id as string);
    expect(inSnapshot.length).toBeGreaterThan(0);
    expect(live.length).toBeGreaterThan(0);
    expect([...inSnapshot, ...live].sort()).toEqual([...registered].sort());
    expect(watcher.messages.findIndex((m) => m.type === 'snapshot')).toBe(1);
    watcher.close();
  });

  it('replays exactly what a client missed when it comes back with since', async () => {
    const kind = unique('resume');
    const first = await WsClient.connect(`${ws}?type=${kind}`);
    await register({ type: kind });
    const [seen] = await first.waitForEvents(1);
    first.close();
    const missed: string[] = [];
    for (let index = 0; index < 5; index += 1) missed.push((await register({ type: kind })).service_id);
    const back = await WsClient.connect(`${ws}?type=${kind}&since=${seen?.seq}`);
    const replayed = await back.waitForEvents(5);
    await sleep(300); // a quiet period: nothing beyond what was missed should be replayed
    expect(back.events().map((m) => m.data?.service_id)).toEqual(missed);
    const after = await register({ type: kind });
    await back.waitForEvents(6);
    expect(back.events().at(-1)?.data?.service_id).toBe(after.service_id);
    expect(replayed.every((m) => (m.seq ?? 0) > (seen?.seq ?? 0))).toBe(true);
    back.close();
  });

  it('replays from JetStream when the gap is older than its memory, and asks for a resync when the stream cannot', async () => {
    const kind = unique('deep');
    const first = await WsClient.connect(`${ws}?type=${kind}`);
    await register({ type: kind });
    const [seen] = await first.waitForEvents(1);
    first.close();
    const wanted = (await register({ type: kind })).service_id;
    for (let index = 0; index < 120; index += 1) await register({ type: unique('filler') }); // beyond the 100-event ring
    const back = await WsClient.connect(`${ws}?type=${kind}&since=${seen?.seq}`);
    const [replayed] = await back.waitForEvents(1);
    expect(replayed?.data?.service_id).toBe(wanted);
    back.close();

    const future = await WsClient.connect(`${ws}?since=999999999`);
    await waitFor('resync', () => future.messages.some((m) => m.type === 'resync_required'));
    expect(future.messages.find((m) => m.type === 'resync_required')).toMatchObject({
      since: 999999999,
      message: expect.stringMatching(/snapshot=true/),
    });
    future.close();

    const jsm = await client.jetstreamManager();
    await jsm.streams.purge(EVENTS_STREAM);
    const gone = await WsClient.connect(`${ws}?since=1`);
    await waitFor('resync', () => gone.messages.some((m) => m.type === 'resync_required'));
    gone.close();
  }, 40_000);

  it('cuts off a client that stops reading (1013) while another keeps receiving', async () => {
    // A gateway of its own, with pings far apart: a reader that stops reading also stops
    // answering pings, and with the shared gateway's 1 s interval a slow machine could drop
    // it as silent (no 1013) before its backlog passes the limit.
    const patient = await startApp('realtime-gateway', {
      env: { NATS_URL: registry.nats.url, WS_MAX_BUFFERED_BYTES: '65536', WS_PING_INTERVAL: '3600' },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
    });
    const kind = unique('slow');
    const healthy = await WsClient.connect(`ws://127.0.0.1:${patient.port}/api/v1/ws?type=${kind}`);
    const socket = tcpConnect(patient.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `GET /api/v1/ws?type=${kind} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // The upgrade's answer, then nothing more is read until the end.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.pause();

    const big = Object.fromEntries(Array.from({ length: 48 }, (_, index) => [`k${index}`, 'x'.repeat(1000)]));
    // ~48 KB per event; the kernel's loopback buffers absorb a few MB before the gateway's
    // own backlog grows, so keep registering (in batches) until the gateway drops the reader.
    const droppedTotal = async (): Promise<number> => {
      const text = await (await fetch(`${patient.url}/metrics`)).text();
      const match = /beacon_gateway_slow_clients_dropped_total\{transport="ws"[^}]*\} (\d+)/.exec(text);
      return match ? Number(match[1]) : 0;
    };
    const before = await droppedTotal();
    const droppedNow = async (): Promise<boolean> => (await droppedTotal()) > before;
    let count = 0;
    while (count < 1000 && !(await droppedNow())) {
      for (let index = 0; index < 50; index += 1) await register({ type: kind, metadata: big });
      count += 50;
      await healthy.waitForEvents(count, () => true, 20_000);
    }
    expect(await droppedNow()).toBe(true);
    await healthy.waitForEvents(count, () => true, 20_000);

    // Reading at last: after what was buffered comes a close frame with code 1013.
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    const all = Buffer.concat(received);
    const closeAt = all.lastIndexOf(Buffer.from([0x88]));
    expect(closeAt).toBeGreaterThan(0);
    expect(all.readUInt16BE(closeAt + 2)).toBe(1013);
    healthy.close();
    await patient.stop();
  }, 60_000);

  it('drops a peer that stops answering pings', async () => {
    const silent = await WsClient.connect(ws, { autoPong: false });
    await waitFor('dropped', () => silent.closed !== null, 5000);
    expect(silent.closed?.code).toBe(1006);
  });

  it('refuses bad parameters at the upgrade with 400', async () => {
    await expect(WsClient.connect(`${ws}?events=nope`)).rejects.toThrow('HTTP 400');
    await expect(WsClient.connect(`${ws}?since=yesterday`)).rejects.toThrow('HTTP 400');
    await expect(WsClient.connect(`${ws}?colour=red`)).rejects.toThrow('HTTP 400');
  });

  it('requires the token when one is configured, by header or parameter', async () => {
    const guardedWs = `ws://127.0.0.1:${guarded.port}/api/v1/ws`;
    await expect(WsClient.connect(guardedWs)).rejects.toThrow('HTTP 401');
    await expect(WsClient.connect(`${guardedWs}?token=wrong`)).rejects.toThrow('HTTP 401');
    (await WsClient.connect(`${guardedWs}?token=secret-2`)).close();
    (await WsClient.connect(guardedWs, { headers: { authorization: 'Bearer secret-1' } })).close();
    expect((await SseClient.connect(`${guarded.url}/api/v1/events`)).status).toBe(401);
    const allowed = await SseClient.connect(`${guarded.url}/api/v1/events?token=secret-1`);
    expect(allowed.status).toBe(200);
    allowed.close();
    const open = await WsClient.connect(ws);
    open.close();
  });
});

describe('realtime-gateway over SSE', () => {
  it("answers HEAD with the stream's head and opens no session (the head was never flushed, and the client waited for good)", async () => {
    const before = await fetchJson('GET', `${gateway.url}/metrics`);
    const response = await fetch(`${gateway.url}/api/v1/events`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const after = await fetchJson('GET', `${gateway.url}/metrics`);
    const sseClients = (text: string) => /beacon_gateway_clients\{transport="sse"\} (\d+)/.exec(text)?.[1];
    expect(sseClients(after.text)).toBe(sseClients(before.text));
  });

  it('delivers the same stream, resumable with Last-Event-ID', async () => {
    const kind = unique('sse');
    const socket = await WsClient.connect(`${ws}?type=${kind}`);
    const stream = await SseClient.connect(`${gateway.url}/api/v1/events?type=${kind}`);
    expect(stream.status).toBe(200);
    await waitFor('greeting', () => stream.events.some((e) => e.event === 'connection_established'));
    const first = await register({ type: kind });
    await rest('PUT', `/services/${first.service_id}`, { version: '3' });
    await socket.waitForEvents(2);
    await waitFor('sse events', () => stream.events.filter((e) => e.data.event).length >= 2);
    const sseEvents = stream.events.filter((e) => e.data.event);
    expect(sseEvents.map((e) => [e.event, Number(e.id), e.data.data?.service_id])).toEqual(
      socket.events().map((m) => [m.type, m.seq, m.data?.service_id]),
    );
    stream.close();

    const missed = await register({ type: kind });
    const resumed = await SseClient.connect(`${gateway.url}/api/v1/events?type=${kind}`, { 'last-event-id': String(sseEvents.at(-1)?.id) });
    await waitFor('replayed', () => resumed.events.some((e) => e.data.data?.service_id === missed.service_id));
    expect(resumed.events.filter((e) => e.data.event).map((e) => e.data.data?.service_id)).toEqual([missed.service_id]);
    resumed.close();
    expect((await SseClient.connect(`${gateway.url}/api/v1/events?snapshot=maybe`)).status).toBe(400);
    socket.close();
  });
});
