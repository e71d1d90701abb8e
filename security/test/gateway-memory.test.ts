import { EVENTS_STREAM, LIMITS, Subjects, type Service } from '@beacon/contracts';
import {
  WsClient,
  fetchJson,
  startApp,
  startRegistry,
  uniqueName,
  waitFor,
  wsText,
  type AppProcess,
  type RegistryFixture,
} from '@beacon/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * Issue 13, item 3: realtime-gateway's memory is bounded in bytes. Each attack is made by
 * real clients that never read (raw TCP sockets that do the WebSocket upgrade or the SSE
 * GET and then stop reading) against a real gateway process; its resident memory must
 * stay under a stated bound while a normal client keeps receiving and /health answers.
 * Each case first shows what the attack would have held (the bytes it pushes at the
 * gateway, several times the bound), then that the gateway held far less.
 */

const MB = 1024 * 1024;
/** The gateway's budgets here: small, so the bounds show with data sizes fit for CI. */
const REPLAY_BYTES = 4 * MB;
const BUFFERED_BYTES = 256 * 1024;
/**
 * The gateway's heap limit here: V8 collects garbage lazily, so a busy process's RSS says
 * little about what it keeps until the heap is near its limit. With this one, what a
 * bounded gateway keeps fits, and what an unbounded one kept does not.
 */
const HEAP_LIMIT_MB = 128;
/** The bound on RSS growth each case states. */
const RSS_GROWTH_MB = 40;
/** A record's metadata near registry-api's limits: one event or snapshot entry is about 50 KB. */
const METADATA = Object.fromEntries(Array.from({ length: 48 }, (_, index) => [`key-${index}`, 'v'.repeat(LIMITS.metadata.maxValueLength)]));

let registry: RegistryFixture;
let raw: NatsConnection;
let gateway: AppProcess;
const sockets: Socket[] = [];

/** The gateway's resident memory in MB (Linux /proc). */
function rssMb(app: AppProcess): number {
  const status = readFileSync(`/proc/${app.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Samples the gateway's RSS while `condition` holds (up to `timeoutMs`); the highest seen, in MB. */
async function peakRssWhile(condition: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  let peak = rssMb(gateway);
  await waitFor(
    'the condition to end',
    async () => {
      peak = Math.max(peak, rssMb(gateway));
      return !(await condition());
    },
    timeoutMs,
    100,
  );
  return peak;
}

/** A metric's value in the gateway's /metrics (summed over the series matching `labels`). */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await fetchJson('GET', `${gateway.url}/metrics`)).text;
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !/[ {]/.test(line.charAt(name.length))) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A TCP client that sends `request` and never reads what comes back. */
async function neverReading(request: string): Promise<Socket> {
  const socket = tcpConnect(gateway.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined); // reset by the gateway when it cuts the client off
  socket.pause();
  socket.write(request);
  sockets.push(socket);
  return socket;
}

/** A TCP client that sends `request` and reads (counts and drops) everything that comes back. */
async function reading(request: string): Promise<{ socket: Socket; received: () => number }> {
  const socket = await neverReading(request);
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.resume();
  return { socket, received: () => received };
}

const wsUpgrade = (query: string): string =>
  `GET /api/v1/ws${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${Buffer.from(randomUUID().slice(0, 16)).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

const sseGet = (query: string): string => `GET /api/v1/events${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`;

/** `count` masked one-byte text frames ("x", not JSON): each asks for an error reply. */
function badFrames(count: number): Buffer {
  const frame = Buffer.from([0x81, 0x81, 1, 2, 3, 4, 'x'.charCodeAt(0) ^ 1]);
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

async function writeAll(socket: Socket, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length && !socket.destroyed; offset += 64 * 1024) {
    if (!socket.write(data.subarray(offset, offset + 64 * 1024))) {
      await new Promise<void>((resolve) => {
        socket.once('drain', resolve);
        socket.once('close', resolve);
      });
    }
  }
}

/** A normal client, filtered to one type so the large events of the attacks do not fill the test's own memory. */
async function normalClient(): Promise<{ client: WsClient; kind: string }> {
  const kind = uniqueName('normal');
  return { client: await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws?type=${kind}`), kind };
}

/** The gateway is still fine: /health answers, and the normal client gets a change made now. */
async function expectServing(normal: { client: WsClient; kind: string }): Promise<void> {
  expect((await fetchJson('GET', `${gateway.url}/health`)).status).toBe(200);
  const service = await registry.register({ name: uniqueName('alive'), host: '10.30.0.1', type: normal.kind });
  await normal.client.waitForEvents(1, (m) => m.data?.service_id === service.service_id, 15_000);
}

/** `count` large updates of one service (the same id: the catalog copies keep one record), stored in BEACON_EVENTS. */
async function publishLargeUpdates(count: number): Promise<number> {
  const base = await registry.register({ name: uniqueName('large'), host: '10.30.0.2' });
  const js = raw.jetstream();
  let bytes = 0;
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, index) => {
      const revision = 1e9 + start + index;
      const service: Service = { ...base, metadata: METADATA, revision };
      const event = { v: 1, type: 'service.updated', timestamp: new Date().toISOString(), revision, service };
      const data = new TextEncoder().encode(JSON.stringify(event));
      bytes += data.length;
      return js.publish(Subjects.serviceUpdated, data);
    });
    await Promise.all(batch);
  }
  return bytes;
}

beforeAll(async () => {
  registry = await startRegistry({
    env: { BEACON_REGISTRATIONS_PER_SECOND: '0', BEACON_MAX_METADATA_KEYS: '64', BEACON_EVENTS_MAX_BYTES: String(128 * MB) },
  });
  raw = await connect({ servers: registry.nats.url });
});

beforeEach(async () => {
  gateway = await startApp('realtime-gateway', {
    env: {
      NATS_URL: registry.nats.url,
      GATEWAY_REPLAY_BYTES: String(REPLAY_BYTES),
      WS_MAX_BUFFERED_BYTES: String(BUFFERED_BYTES),
      // Pings far apart: a non-reading client must be cut for what it does not read, not for a missed pong.
      WS_PING_INTERVAL: '600',
      NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB}`,
    },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await gateway?.stop();
});

afterAll(async () => {
  await raw?.close();
  await registry?.dispose();
});

describe('realtime-gateway memory, bounded in bytes', () => {
  it('keeps the replay ring within GATEWAY_REPLAY_BYTES however large the events', async () => {
    const normal = await normalClient();
    // A first batch fills the ring (and grows the heap as any busy gateway's is): the baseline.
    await publishLargeUpdates(600);
    await expectServing(normal);
    const before = rssMb(gateway);
    const heard = await publishLargeUpdates(1000);
    await expectServing(normal); // its event comes after the batch: the gateway has taken all of it
    const ring = await metric('beacon_gateway_replay_bytes');
    const grown = rssMb(gateway) - before;
    console.info(
      `ring: ${(heard / MB).toFixed(0)} MB of events heard, ring holds ${(ring / MB).toFixed(1)} MB; RSS +${grown.toFixed(0)} MB`,
    );
    // By count alone (10,000 by default) the ring would keep all 1,600: ~80 MB of text and as much parsed, past the heap limit.
    expect(heard).toBeGreaterThan(10 * REPLAY_BYTES);
    expect(ring).toBeGreaterThan(REPLAY_BYTES / 2);
    expect(ring).toBeLessThanOrEqual(REPLAY_BYTES);
    expect(grown).toBeLessThan(RSS_GROWTH_MB);
    normal.client.close();
  }, 90_000);

  it('cuts off a client that sends bad messages without reading the error replies', async () => {
    const normal = await normalClient();
    const frames = 600_000; // each answered with a ~95-byte error: ~57 MB of replies unless the client is cut off
    // First from a client that reads its replies: all answered, nothing kept (and the heap grown as a busy gateway's is).
    const politeFrames = 200_000;
    const polite = await reading(wsUpgrade(''));
    await writeAll(polite.socket, badFrames(politeFrames));
    await waitFor('every error reply read', () => polite.received() > politeFrames * 90, 60_000);
    polite.socket.destroy();
    const before = rssMb(gateway);
    const dropped = await metric('beacon_gateway_slow_clients_dropped_total', { transport: 'ws' });
    const attacker = await neverReading(wsUpgrade(''));
    await writeAll(attacker, badFrames(frames));
    await waitFor(
      'the attacker cut off',
      async () => (await metric('beacon_gateway_slow_clients_dropped_total', { transport: 'ws' })) > dropped,
      20_000,
    );
    await expectServing(normal);
    const grown = rssMb(gateway) - before;
    console.info(`errors: ${frames} bad frames sent; RSS +${grown.toFixed(0)} MB`);
    expect(grown).toBeLessThan(RSS_GROWTH_MB);
    normal.client.close();
  }, 90_000);

  it('writes snapshots as the client reads, and cuts off snapshot clients that never read', async () => {
    const services = 200;
    for (let index = 0; index < services; index += 1) {
      await registry.register({ name: uniqueName('big'), host: '10.30.1.1', port: 1000 + index, metadata: METADATA });
    }
    const catalog = (await fetchJson('GET', `${registry.base}/services?limit=100`)).text.length;
    const normal = await normalClient();
    // A reading client still gets the whole catalog, in one message.
    const reader = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws?snapshot=true`);
    const snapshot = await waitFor('a whole snapshot', () => reader.messages.find((m) => m.type === 'snapshot'), 20_000);
    const held = (snapshot.data as { services: Service[]; total: number }).services;
    expect(held.length).toBe((snapshot.data as { total: number }).total);
    expect(held.length).toBeGreaterThanOrEqual(services);
    reader.close();

    const before = rssMb(gateway);
    const dropped = await metric('beacon_gateway_slow_clients_dropped_total');
    const clients = 12;
    for (let index = 0; index < clients; index += 1) {
      await neverReading(index % 2 === 0 ? wsUpgrade('?snapshot=true') : sseGet('?snapshot=true'));
    }
    await expectServing(normal);
    // Each takes nothing for 10 s, and is cut off then; until then, the most the gateway held.
    const peak = await peakRssWhile(async () => (await metric('beacon_gateway_slow_clients_dropped_total')) - dropped < clients, 30_000);
    const snapshotBytes = (catalog / 100) * held.length;
    console.info(`snapshots: ${clients} clients × ${(snapshotBytes / MB).toFixed(1)} MB; RSS +${(peak - before).toFixed(0)} MB at most`);
    expect(clients * snapshotBytes).toBeGreaterThan(80 * MB);
    expect(peak - before).toBeLessThan(RSS_GROWTH_MB);
    expect(await metric('beacon_gateway_clients')).toBe(1); // the normal client
    await expectServing(normal);
    normal.client.close();
  }, 120_000);

  it('pages a since= resume through JetStream instead of reading it all, for reading and non-reading clients alike', async () => {
    await publishLargeUpdates(800);
    const jsm = await raw.jetstreamManager();
    const { state } = await jsm.streams.info(EVENTS_STREAM);
    const since = state.first_seq - 1;
    const backlog = state.bytes;
    const normal = await normalClient();
    const before = rssMb(gateway);
    const dropped = await metric('beacon_gateway_slow_clients_dropped_total');
    const clients = 6;
    for (let index = 0; index < clients; index += 1) {
      await neverReading(index % 2 === 0 ? wsUpgrade(`?since=${since}`) : sseGet(`?since=${since}`));
    }
    await expectServing(normal);
    // Each stalls its replay and is cut off after 10 s; until then, the most the gateway held.
    const peak = await peakRssWhile(async () => (await metric('beacon_gateway_slow_clients_dropped_total')) - dropped < clients, 30_000);
    console.info(`resume: ${clients} clients × ${(backlog / MB).toFixed(0)} MB backlog; RSS +${(peak - before).toFixed(0)} MB at most`);
    expect(clients * backlog).toBeGreaterThan(200 * MB);
    expect(peak - before).toBeLessThan(RSS_GROWTH_MB);

    // A client that reads gets every stored event after `since`, in order, none twice (only positions kept: 100 MB of events).
    const lastSeq = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    const seqs: number[] = [];
    const reader = new WebSocket(`ws://127.0.0.1:${gateway.port}/api/v1/ws?since=${since}&events=service_updated,service_registered`);
    reader.on('message', (data) => {
      const message = JSON.parse(wsText(data)) as { event?: string; seq?: number | null };
      if (message.event !== undefined && typeof message.seq === 'number') seqs.push(message.seq);
    });
    await waitFor('the whole replay', () => seqs.at(-1) === lastSeq, 60_000);
    expect(seqs).toEqual(Array.from({ length: lastSeq - since }, (_, index) => since + 1 + index));
    reader.close();
    await expectServing(normal);
    normal.client.close();
  }, 150_000);
});
