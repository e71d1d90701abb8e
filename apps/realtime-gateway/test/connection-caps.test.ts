import { SseClient, WsClient, startApp, startRegistry, uniqueName, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import { get, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The connection caps against real nats-server, registry-api and realtime-gateway
 * processes, with small caps: clients come from several loopback addresses
 * (127.0.0.x via `localAddress`), each counted as its own client.
 */
const MAX_CLIENTS = 20;
const PER_ADDRESS = 8;

let registry: RegistryFixture;
let gateway: AppProcess;
let ws: string;
let sse: string;
const open: { close(): void }[] = [];

interface Refused {
  status: number;
  retryAfter: string | undefined;
  detail: string;
}

/** A refused WebSocket upgrade's status, Retry-After and `detail`; fails if the upgrade succeeds. */
function refusedWs(localAddress: string): Promise<Refused> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(ws, { localAddress });
    socket.once('open', () => {
      socket.close();
      reject(new Error(`WebSocket from ${localAddress} was accepted`));
    });
    socket.once('unexpected-response', (_request, response) => void readRefusal(response).then(resolve, reject));
    socket.once('error', reject);
  });
}

async function readRefusal(response: IncomingMessage): Promise<Refused> {
  let body = '';
  for await (const chunk of response) body += (chunk as Buffer).toString();
  const retryAfter = response.headers['retry-after'];
  return { status: response.statusCode ?? 0, retryAfter, detail: (JSON.parse(body) as { detail: string }).detail };
}

/** An SSE request from `localAddress`: the open stream (kept for closing), or the refusal. */
function sseFrom(localAddress: string): Promise<{ status: number; refused?: Refused }> {
  return new Promise((resolve, reject) => {
    const request = get(sse, { localAddress }, (response) => {
      if (response.statusCode === 200) {
        open.push({ close: () => request.destroy() });
        resolve({ status: 200 });
      } else {
        void readRefusal(response).then((refused) => resolve({ status: refused.status, refused }), reject);
      }
    });
    request.once('error', reject);
  });
}

async function wsFrom(localAddress: string): Promise<WsClient> {
  const client = await WsClient.connect(ws, { localAddress });
  open.push(client);
  return client;
}

async function refusedCount(reason: string): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const match = new RegExp(`^beacon_gateway_connections_refused_total\\{reason="${reason}"[^}]*\\} (\\d+)$`, 'm').exec(text);
  return Number(match?.[1] ?? NaN);
}

beforeAll(async () => {
  registry = await startRegistry();
  gateway = await startApp('realtime-gateway', {
    env: {
      NATS_URL: registry.nats.url,
      GATEWAY_MAX_CLIENTS: String(MAX_CLIENTS),
      GATEWAY_MAX_CLIENTS_PER_ADDRESS: String(PER_ADDRESS),
    },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
  ws = `ws://127.0.0.1:${gateway.port}/api/v1/ws`;
  sse = `http://127.0.0.1:${gateway.port}/api/v1/events`;
});

afterAll(async () => {
  for (const client of open) client.close();
  await gateway?.stop();
  await registry?.dispose();
});

describe('realtime-gateway connection caps', () => {
  const first: WsClient[] = [];

  it('refuses a ninth WebSocket or SSE client from one address with 429, while another address gets in', async () => {
    for (let i = 0; i < 5; i++) first.push(await wsFrom('127.0.0.1'));
    for (let i = 0; i < 3; i++) expect((await sseFrom('127.0.0.1')).status).toBe(200);

    const wsRefusal = await refusedWs('127.0.0.1');
    expect(wsRefusal).toEqual({ status: 429, retryAfter: '10', detail: expect.stringContaining('GATEWAY_MAX_CLIENTS_PER_ADDRESS') });
    const sseRefusal = await sseFrom('127.0.0.1');
    expect(sseRefusal.refused).toEqual({
      status: 429,
      retryAfter: '10',
      detail: expect.stringContaining('GATEWAY_MAX_CLIENTS_PER_ADDRESS'),
    });

    const other = await wsFrom('127.0.0.2');
    expect(other.messages[0]?.type).toBe('connection_established');
  });

  it('refuses every address with 503 naming GATEWAY_MAX_CLIENTS once the gateway is full; /health stays 200', async () => {
    for (let i = 1; i < PER_ADDRESS; i++) await wsFrom('127.0.0.2');
    for (let i = 0; i < MAX_CLIENTS - 2 * PER_ADDRESS; i++) await sseFrom('127.0.0.3');

    const wsRefusal = await refusedWs('127.0.0.4');
    expect(wsRefusal).toEqual({ status: 503, retryAfter: '10', detail: expect.stringContaining('GATEWAY_MAX_CLIENTS') });
    expect(wsRefusal.detail).not.toContain('PER_ADDRESS');
    expect((await sseFrom('127.0.0.4')).refused).toMatchObject({ status: 503, detail: expect.stringContaining('GATEWAY_MAX_CLIENTS') });
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it('counts the refusals by reason', async () => {
    expect(await refusedCount('address_full')).toBe(2);
    expect(await refusedCount('gateway_full')).toBe(2);
  });

  it('frees the slots of clients that leave: a newcomer connects and gets an event registered afterwards', async () => {
    first[0]?.close();
    first[1]?.close();
    // The slots come back as the gateway sees the sockets close.
    const newcomer = await waitFor('a free slot', () => WsClient.connect(ws).catch(() => undefined), 5_000, 100);
    open.push(newcomer);
    const service = await registry.register({ name: uniqueName('caps'), host: '10.9.0.1' });
    const [event] = await newcomer.waitForEvents(1, (m) => m.type === 'service_registered' && m.data?.service_id === service.service_id);
    expect(event?.data?.name).toBe(service.name);

    // An SSE stream's slot is freed as well.
    await wsFrom('127.0.0.5');
    expect(await refusedWs('127.0.0.6')).toMatchObject({ status: 503 });
    open.find((client) => !(client instanceof WsClient))?.close();
    const stream = await waitFor('a free SSE slot', () =>
      SseClient.connect(sse).then((c) => (c.status === 200 ? c : (c.close(), undefined))),
    );
    open.push(stream);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it('closes a connection that sends a bad frame without an error line per frame', async () => {
    // Make room: the gateway is full again.
    first[2]?.close();
    const client = await waitFor('a free slot', () => WsClient.connect(ws).catch(() => undefined), 5_000, 100);
    const raw = (client.socket as unknown as { _socket: import('node:net').Socket })._socket;
    // A final frame with reserved opcode 0x3, masked, empty: a protocol error for ws.
    for (let i = 0; i < 5; i++) raw.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
    await waitFor('the close', () => client.closed ?? undefined);
    expect(client.closed?.code).toBe(1002);
    expect(gateway.output()).not.toMatch(/RangeError|Invalid opcode/);
  });
});
