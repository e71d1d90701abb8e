import type { Service } from '@beacon/contracts';
import {
  SseClient,
  WsClient,
  waitFor,
  fetchJson,
  startApp,
  startRegistry,
  uniqueName as unique,
  type AppProcess,
  type LiveMessage as Message,
  type RegistryFixture,
} from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A client with service filters hears, once, the change that takes a service it held out
 * of them (the record no longer matching), and nothing more about that service until it
 * matches again. Real nats-server, registry-api and realtime-gateway; changes over REST.
 */
let registry: RegistryFixture;
let gateway: AppProcess;
let ws: string;

const put = (service: Service, body: Record<string, unknown>): Promise<unknown> =>
  fetchJson('PUT', `${registry.base}/services/${service.service_id}`, body);
const register = (tags: string[]): Promise<Service> => registry.register({ name: unique('leave'), host: '10.7.0.1', tags });
const updates = (client: WsClient, service: Service): Message[] =>
  client.forService(service.service_id).filter((m) => m.type === 'service_updated');
const tagsOf = (message: Message | undefined): unknown => (message?.data as { tags?: unknown } | undefined)?.tags;

/** Registers a blue service and waits until `client` has its event: everything published before has arrived. */
async function marker(...clients: WsClient[]): Promise<Service> {
  const last = await register(['blue']);
  for (const client of clients) await client.waitForEvents(1, (m) => m.data?.service_id === last.service_id);
  return last;
}

beforeAll(async () => {
  registry = await startRegistry({ env: { BEACON_REGISTRATIONS_PER_SECOND: '0' } });
  gateway = await startApp('realtime-gateway', {
    env: { NATS_URL: registry.nats.url, GATEWAY_REPLAY_EVENTS: '1000' },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
  ws = `ws://127.0.0.1:${gateway.port}/api/v1/ws`;
});

afterAll(async () => {
  await gateway?.stop();
  await registry?.dispose();
});

describe('a service that leaves a client filter', () => {
  it('is sent once with the record that no longer matches; a service never matching is never sent', async () => {
    const client = await WsClient.connect(`${ws}?tags=blue`);
    const sse = await SseClient.connect(`http://127.0.0.1:${gateway.port}/api/v1/events?tags=blue`);
    const leaving = await register(['blue', 'edge']);
    const never = await register(['green']);
    await client.waitForEvents(1, (m) => m.data?.service_id === leaving.service_id);
    const before = (client.messages[0] as Message).seq;

    await put(leaving, { tags: ['green'] });
    // No longer matching, before or after: nothing about these.
    await put(leaving, { version: '2.0' });
    await put(never, { version: '2.0', tags: ['green', 'red'] });
    const mark = await marker(client);

    const left = updates(client, leaving);
    expect(left).toHaveLength(1);
    expect(tagsOf(left[0])).toEqual(['green']);
    expect(client.forService(never.service_id)).toEqual([]);
    // An SSE client alike.
    const sseFor = (service: Service): { event: string; data: Message }[] =>
      sse.events.filter((e) => e.data.data?.service_id === service.service_id);
    await waitFor('the SSE client to get the marker', () => (sseFor(mark).length > 0 ? true : undefined), 10_000);
    expect(sseFor(leaving).map((e) => [e.event, tagsOf(e.data)])).toEqual([
      ['service_registered', ['blue', 'edge']],
      ['service_updated', ['green']],
    ]);
    expect(sseFor(never)).toEqual([]);
    sse.close();

    // Back in its filter: sent again, as any matching change.
    await put(leaving, { tags: ['blue'] });
    await client.waitForEvents(2, (m) => m.type === 'service_updated' && m.data?.service_id === leaving.service_id);
    expect(updates(client, leaving).map(tagsOf)).toEqual([['green'], ['blue']]);

    // A resume from before the change (the gateway's recent events) gets the same messages.
    const resumed = await WsClient.connect(`${ws}?tags=blue&since=${String(before)}`);
    await marker(client, resumed);
    expect(updates(resumed, leaving).map(tagsOf)).toEqual([['green'], ['blue']]);
    expect(resumed.forService(never.service_id)).toEqual([]);
    client.close();
    resumed.close();
  }, 60_000);

  it('applies to the type and name filters alike (with service_id alongside)', async () => {
    const service = await registry.register({ name: unique('leave-named'), host: '10.7.0.2', type: 'http' });
    const other = await registry.register({ name: service.name, host: '10.7.0.3', type: 'http' });
    const byType = await WsClient.connect(`${ws}?type=http&service_id=${service.service_id},${other.service_id}`);
    const byName = await WsClient.connect(`${ws}?name=${service.name}`);
    await put(service, { type: 'grpc', name: unique('renamed') });
    await put(service, { version: '3.0' });
    // Still matching both: once it has arrived, so has everything before it.
    await put(other, { version: '3.0' });
    for (const client of [byType, byName]) {
      await client.waitForEvents(1, (m) => m.type === 'service_updated' && m.data?.service_id === other.service_id);
      expect(updates(client, service)).toHaveLength(1);
      expect(updates(client, service)[0]?.data).toMatchObject({ type: 'grpc', version: null });
      client.close();
    }
  }, 60_000);

  it('is replayed from the stream too when a resume reaches back past the recent events, with changes it cannot place', async () => {
    const small = await startApp('realtime-gateway', {
      env: { NATS_URL: registry.nats.url, GATEWAY_REPLAY_EVENTS: '100' },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
    });
    try {
      const smallWs = `ws://127.0.0.1:${small.port}/api/v1/ws`;
      const other = await register(['green']);
      const first = await WsClient.connect(`${smallWs}?tags=blue`);
      const since = (first.messages[0] as Message).seq;
      first.close();
      const leaving = await register(['blue']);
      // More than the gateway keeps: the resume reads the stream.
      await Promise.all(Array.from({ length: 110 }, () => register(['green'])));
      await put(leaving, { tags: ['green'] });
      await put(leaving, { version: '2.0' });
      await put(other, { version: '2.0' });
      const live = await WsClient.connect(`${smallWs}?tags=blue`);
      const mark = await marker(live);
      live.close();

      const resumed = await WsClient.connect(`${smallWs}?tags=blue&since=${String(since)}`);
      await resumed.waitForEvents(1, (m) => m.data?.service_id === mark.service_id);
      expect(resumed.forService(leaving.service_id).map((m) => [m.type, tagsOf(m)])).toEqual([
        ['service_registered', ['blue']],
        ['service_updated', ['green']],
      ]);
      // Its first change in the replay: the gateway cannot tell it never matched, so it is sent (and dropped by the client).
      expect(resumed.forService(other.service_id).map((m) => [m.type, tagsOf(m)])).toEqual([['service_updated', ['green']]]);
      expect(resumed.events('service_registered').every((m) => (tagsOf(m) as string[]).includes('blue'))).toBe(true);
      resumed.close();
    } finally {
      await small.stop();
    }
  }, 60_000);
});
