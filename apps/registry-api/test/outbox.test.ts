import { EVENTS_STREAM, type NatsIdentity, type Service } from '@beacon/contracts';
import {
  WsClient,
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
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * No event is ever lost: the transactional outbox. Real nats-server with Beacon's
 * permissions, registry-api on an SQLite file, and the consumers (ttl-reaper,
 * realtime-gateway, mdns-announcer) as real processes. With NATS stopped, 500
 * registrations, updates and deletes are acknowledged; registry-api is then killed with
 * SIGKILL before NATS ever comes back. NATS and registry-api start again: every event is
 * in BEACON_EVENTS exactly once, in revision order, and every consumer agrees with the store.
 */

const OPERATIONS = 500;

let nats: NatsServerHandle;
let registry: RegistryFixture;
const consumers: AppProcess[] = [];
let gateway: AppProcess;
let reaper: AppProcess;
let announcer: AppProcess;

const identity = (name: NatsIdentity): Record<string, string> => {
  const found = nats.identities?.[name];
  if (!found) throw new Error(`no identity ${name}`);
  return { NATS_URL: nats.url, NATS_USER: found.NATS_USER, NATS_PASSWORD_FILE: found.NATS_PASSWORD_FILE };
};

beforeAll(async () => {
  nats = await startNatsServer({ auth: true });
  registry = await startRegistry({ nats, env: identity('registry-api') });
  reaper = await startApp('ttl-reaper', { env: identity('ttl-reaper'), portVariable: 'HTTP_PORT', readyPath: '/ready' });
  gateway = await startApp('realtime-gateway', { env: identity('realtime-gateway'), portVariable: 'HTTP_PORT', readyPath: '/ready' });
  announcer = await startApp('mdns-announcer', {
    // An interface that does not exist: it keeps its records and sends nothing onto the LAN.
    env: { ...identity('mdns-announcer'), MDNS_INTERFACE: 'beacon-none0' },
    portVariable: 'HTTP_PORT',
  });
  consumers.push(reaper, gateway, announcer);
}, 60_000);

afterAll(async () => {
  for (const app of consumers) await app.stop().catch(() => undefined);
  await registry?.dispose().catch(() => undefined);
  await nats?.dispose().catch(() => undefined);
});

/** A stored catalog event as the stream holds it. */
interface StoredEvent {
  seq: number;
  id: string | undefined;
  type: string;
  revision: number;
  service_id: string;
}

/** Every event in BEACON_EVENTS from the start, read as realtime-gateway reads it (an ordered consumer). */
async function readStream(): Promise<StoredEvent[]> {
  const connection: NatsConnection = await connect({ servers: nats.url, ...nats.credentials('realtime-gateway') });
  try {
    const consumer = await connection.jetstream().consumers.get(EVENTS_STREAM);
    const events: StoredEvent[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      let received = 0;
      for await (const message of batch) {
        received += 1;
        const body = message.json<{ type: string; revision: number; service: Service }>();
        events.push({
          seq: message.seq,
          id: message.headers?.get('Nats-Msg-Id'),
          type: body.type,
          revision: body.revision,
          service_id: body.service.service_id,
        });
      }
      if (received === 0) return events;
    }
  } finally {
    await connection.close();
  }
}

/** What the store holds: every service and its revision, page by page. */
async function storeCatalog(): Promise<Map<string, number>> {
  const catalog = new Map<string, number>();
  for (let skip = 0; ; skip += 100) {
    const { body } = await fetchJson<{ services: Service[]; total: number }>('GET', `${registry.base}/services?limit=100&skip=${skip}`);
    for (const service of body.services) catalog.set(service.service_id, service.revision);
    if (skip + 100 >= body.total) return catalog;
  }
}

describe('transactional outbox', () => {
  it('keeps every event of changes made while NATS was away, through a SIGKILL, exactly once and in revision order', async () => {
    const before = (await readStream()).length;

    const trace = (what: string): void => void (process.env.BEACON_TEST_VERBOSE && console.log(new Date().toISOString(), what));
    trace('stopping NATS');
    await nats.stop();
    trace('NATS stopped');
    /** The expected event of each operation, in the order the API acknowledged them. */
    const expected: { type: string; service_id: string; revision: number | null }[] = [];
    const live: Service[] = [];
    for (let op = 0; op < OPERATIONS; op++) {
      const kind = live.length < 20 || op % 5 < 3 ? 'register' : op % 5 === 3 ? 'update' : 'delete';
      if (kind === 'register') {
        const service = await registry.register({ name: uniqueName('outbox'), host: '10.8.0.1', port: 1000 + op, ttl: 3600 });
        live.push(service);
        expected.push({ type: 'service.registered', service_id: service.service_id, revision: service.revision });
      } else if (kind === 'update') {
        const target = live[op % live.length] as Service;
        const { status, body } = await fetchJson<Service>('PUT', `${registry.base}/services/${target.service_id}`, { version: `v${op}` });
        expect(status).toBe(200);
        expected.push({ type: 'service.updated', service_id: target.service_id, revision: body.revision });
      } else {
        const [target] = live.splice(op % live.length, 1) as [Service];
        const { status } = await fetchJson('DELETE', `${registry.base}/services/${target.service_id}`);
        expect(status).toBe(204);
        expected.push({ type: 'service.deregistered', service_id: target.service_id, revision: null });
      }
    }
    trace('operations done');
    // Down before NATS ever comes back: everything it acknowledged is only in its outbox.
    await registry.api.stop('SIGKILL');

    await nats.start();
    await registry.restart(identity('registry-api'));
    trace('restarted');

    const stored = await waitFor(
      `${OPERATIONS} new events in ${EVENTS_STREAM}`,
      async () => {
        const events = await readStream();
        return events.length >= before + OPERATIONS ? events : undefined;
      },
      30_000,
      250,
    );
    await sleep(1500); // room for a duplicate to show up
    const events = (await readStream()).slice(before);

    expect(events).toHaveLength(OPERATIONS);
    expect(new Set(events.map((event) => event.id)).size).toBe(OPERATIONS);
    expect(events.every((event) => typeof event.id === 'string')).toBe(true);
    expect(events.map(({ type, service_id }) => ({ type, service_id }))).toEqual(
      expected.map(({ type, service_id }) => ({ type, service_id })),
    );
    for (const [index, event] of events.entries()) {
      const revision = expected[index]?.revision;
      if (revision !== null && revision !== undefined) expect(event.revision).toBe(revision);
      if (index > 0) expect(event.revision).toBeGreaterThan((events[index - 1] as StoredEvent).revision);
    }
    expect(stored.length).toBeGreaterThanOrEqual(before + OPERATIONS);

    // Every consumer converges to the store.
    const catalog = await storeCatalog();
    expect(catalog.size).toBe(live.length);
    const client = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws?snapshot=true`);
    try {
      const snapshot = await waitFor('snapshot', () => client.messages.find((message) => message.type === 'snapshot'));
      const services = (snapshot.data as { services: Service[] }).services;
      expect(new Map(services.map((service) => [service.service_id, service.revision]))).toEqual(catalog);
    } finally {
      client.close();
    }
    await waitFor(
      'ttl-reaper to watch every service',
      async () => {
        const metrics = await (await fetch(`${reaper.url}/metrics`)).text();
        const owned = /^beacon_reaper_owned_services(?:\{[^}]*\})? (\d+)/m.exec(metrics);
        return owned && Number(owned[1]) === catalog.size ? true : undefined;
      },
      15_000,
    );
    await waitFor(
      'mdns-announcer to hold every service',
      async () => {
        const { body } = await fetchJson<{ mdns?: { registered_services?: number } }>('GET', `${announcer.url}/health`);
        return body.mdns?.registered_services === catalog.size ? true : undefined;
      },
      15_000,
    );
    const outbox = await (await fetch(`${registry.api.url}/metrics`)).text();
    expect(outbox).toMatch(/^beacon_outbox_depth(?:\{[^}]*\})? 0$/m);
  }, 180_000);
});
