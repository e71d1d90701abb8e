import { EVENTS_STREAM, type NatsIdentity, type Service } from '@beacon/contracts';
import {
  WsClient,
  fetchJson,
  freePort,
  register,
  sleep,
  startApp,
  startNatsServer,
  startRegistry,
  startSingleProcess,
  uniqueName,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
  type SingleProcess,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * No event is ever lost: the transactional outbox. Real nats-server with Beacon's
 * permissions, registry-api on an SQLite file, and the consumers (ttl-reaper,
 * realtime-gateway, mdns-announcer). With NATS stopped, 500 registrations, updates and
 * deletes are acknowledged; registry-api is then killed with SIGKILL before NATS ever
 * comes back. NATS and registry-api start again: every event is in BEACON_EVENTS exactly
 * once, in revision order, and every consumer agrees with the store. Run twice: with each
 * app its own process (registry-api killed), and in single-box mode (the one process
 * holding all four killed), as `./beacon.sh start` runs them.
 */

const OPERATIONS = 500;

let nats: NatsServerHandle;

const identity = (name: NatsIdentity): Record<string, string> => {
  const found = nats.identities?.[name];
  if (!found) throw new Error(`no identity ${name}`);
  return { NATS_URL: nats.url, NATS_USER: found.NATS_USER, NATS_PASSWORD_FILE: found.NATS_PASSWORD_FILE };
};

/** Where the test reaches the running apps, however they are run. */
interface Stack {
  registry: string;
  gateway: string;
  reaper: string;
  announcer: string;
  /** Kills registry-api with SIGKILL (in single mode, the process holding every app). */
  kill(): Promise<void>;
  /** Starts what `kill` killed, on the same store. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/** An interface that does not exist: mdns-announcer keeps its records and sends nothing onto the LAN. */
const NO_LAN = { MDNS_INTERFACE: 'beacon-none0' };

async function splitStack(): Promise<Stack> {
  const registry: RegistryFixture = await startRegistry({ nats, env: identity('registry-api') });
  const consumers: AppProcess[] = [];
  try {
    consumers.push(await startApp('ttl-reaper', { env: identity('ttl-reaper'), portVariable: 'HTTP_PORT', readyPath: '/ready' }));
    consumers.push(
      await startApp('realtime-gateway', { env: identity('realtime-gateway'), portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    );
    consumers.push(await startApp('mdns-announcer', { env: { ...identity('mdns-announcer'), ...NO_LAN }, portVariable: 'HTTP_PORT' }));
  } catch (error) {
    for (const app of consumers) await app.stop().catch(() => undefined);
    await registry.dispose();
    throw error;
  }
  const [reaper, gateway, announcer] = consumers as [AppProcess, AppProcess, AppProcess];
  return {
    get registry() {
      return registry.api.url;
    },
    gateway: gateway.url,
    reaper: reaper.url,
    announcer: announcer.url,
    kill: async () => void (await registry.api.stop('SIGKILL')),
    restart: async () => void (await registry.restart(identity('registry-api'))),
    async dispose() {
      for (const app of consumers) await app.stop().catch(() => undefined);
      await registry.dispose();
    },
  };
}

async function singleStack(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-outbox-single-'));
  const [registryPort, reaperPort, gatewayPort, announcerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const perApp = {
    'registry-api': {
      ...identity('registry-api'),
      BEACON_PORT: String(registryPort),
      BEACON_HOST: '127.0.0.1',
      BEACON_SQLITE_PATH: join(dir, 'beacon.db'),
      BEACON_REGISTRATIONS_PER_SECOND: '0',
    },
    'ttl-reaper': { ...identity('ttl-reaper'), HTTP_PORT: String(reaperPort) },
    'realtime-gateway': { ...identity('realtime-gateway'), HTTP_PORT: String(gatewayPort) },
    'mdns-announcer': { ...identity('mdns-announcer'), HTTP_PORT: String(announcerPort), ...NO_LAN },
  };
  let single: SingleProcess | null = null;
  const start = async (): Promise<void> => {
    single = await startSingleProcess({
      apps: perApp,
      readyUrls: [registryPort, reaperPort, gatewayPort].map((port) => `http://127.0.0.1:${port}/ready`),
    });
  };
  const kill = async (): Promise<void> => {
    const running = single;
    single = null;
    await running?.kill();
  };
  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    registry: `http://127.0.0.1:${registryPort}`,
    gateway: `http://127.0.0.1:${gatewayPort}`,
    reaper: `http://127.0.0.1:${reaperPort}`,
    announcer: `http://127.0.0.1:${announcerPort}`,
    kill,
    restart: start,
    async dispose() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

beforeAll(async () => {
  nats = await startNatsServer({ auth: true });
}, 30_000);

afterAll(async () => {
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
async function storeCatalog(base: string): Promise<Map<string, number>> {
  const catalog = new Map<string, number>();
  for (let skip = 0; ; skip += 100) {
    const { body } = await fetchJson<{ services: Service[]; total: number }>('GET', `${base}/services?limit=100&skip=${skip}`);
    for (const service of body.services) catalog.set(service.service_id, service.revision);
    if (skip + 100 >= body.total) return catalog;
  }
}

const trace = (what: string): void => void (process.env.BEACON_TEST_VERBOSE && console.log(new Date().toISOString(), what));

/** The scenario of this file's header, on `stack`. */
async function lostNothing(stack: Stack): Promise<void> {
  /** registry-api's API; its port may change with the restart. */
  const api = (): string => `${stack.registry}/api/v1`;
  const before = (await readStream()).length;
  trace('stopping NATS');
  await nats.stop();
  /** The expected event of each operation, in the order the API acknowledged them. */
  const expected: { type: string; service_id: string; revision: number | null }[] = [];
  const live: Service[] = [];
  for (let op = 0; op < OPERATIONS; op++) {
    const kind = live.length < 20 || op % 5 < 3 ? 'register' : op % 5 === 3 ? 'update' : 'delete';
    if (kind === 'register') {
      const service = await register(stack.registry, { name: uniqueName('outbox'), host: '10.8.0.1', port: 1000 + op, ttl: 3600 });
      live.push(service);
      expected.push({ type: 'service.registered', service_id: service.service_id, revision: service.revision });
    } else if (kind === 'update') {
      const target = live[op % live.length] as Service;
      const { status, body } = await fetchJson<Service>('PUT', `${api()}/services/${target.service_id}`, { version: `v${op}` });
      expect(status).toBe(200);
      expected.push({ type: 'service.updated', service_id: target.service_id, revision: body.revision });
    } else {
      const [target] = live.splice(op % live.length, 1) as [Service];
      const { status } = await fetchJson('DELETE', `${api()}/services/${target.service_id}`);
      expect(status).toBe(204);
      expected.push({ type: 'service.deregistered', service_id: target.service_id, revision: null });
    }
  }
  trace('operations done');
  // Down before NATS ever comes back: everything it acknowledged is only in its outbox.
  await stack.kill();
  await nats.start();
  await stack.restart();
  trace('restarted');

  await waitFor(
    `${OPERATIONS} new events in ${EVENTS_STREAM}`,
    async () => ((await readStream()).length >= before + OPERATIONS ? true : undefined),
    30_000,
    250,
  );
  await sleep(1500); // room for a duplicate to show up
  const events = (await readStream()).slice(before);

  expect(events).toHaveLength(OPERATIONS);
  expect(events.every((event) => typeof event.id === 'string')).toBe(true);
  expect(new Set(events.map((event) => event.id)).size).toBe(OPERATIONS);
  expect(events.map(({ type, service_id }) => ({ type, service_id }))).toEqual(
    expected.map(({ type, service_id }) => ({ type, service_id })),
  );
  for (const [index, event] of events.entries()) {
    const revision = expected[index]?.revision;
    if (revision !== null && revision !== undefined) expect(event.revision).toBe(revision);
    if (index > 0) expect(event.revision).toBeGreaterThan((events[index - 1] as StoredEvent).revision);
  }

  // Every consumer converges to the store.
  const catalog = await storeCatalog(api());
  expect([...catalog.keys()].sort()).toEqual(live.map((service) => service.service_id).sort());
  const client = await WsClient.connect(`${stack.gateway.replace('http', 'ws')}/api/v1/ws?snapshot=true`);
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
      const metrics = await (await fetch(`${stack.reaper}/metrics`)).text();
      const owned = /^beacon_reaper_owned_services(?:\{[^}]*\})? (\d+)/m.exec(metrics);
      return owned && Number(owned[1]) === catalog.size ? true : undefined;
    },
    15_000,
  );
  await waitFor(
    'mdns-announcer to hold every service',
    async () => {
      const { body } = await fetchJson<{ mdns?: { registered_services?: number } }>('GET', `${stack.announcer}/health`);
      return body.mdns?.registered_services === catalog.size ? true : undefined;
    },
    15_000,
  );
  const metrics = await (await fetch(`${stack.registry}/metrics`)).text();
  expect(metrics).toMatch(/^beacon_outbox_depth(?:\{[^}]*\})? 0$/m);
}

describe('transactional outbox', () => {
  it('keeps every event of changes made while NATS was away, through a SIGKILL of registry-api, once and in revision order', async () => {
    const stack = await splitStack();
    try {
      await lostNothing(stack);
    } finally {
      await stack.dispose();
    }
  }, 180_000);

  it('does the same when the single process holding every app is killed', async () => {
    const stack = await singleStack();
    try {
      await lostNothing(stack);
    } finally {
      await stack.dispose();
    }
  }, 180_000);
});

describe('the event stream deleted behind registry-api', () => {
  it('is created again and gets the events waiting, while other apps still listen to the subjects', async () => {
    const open = await startNatsServer();
    const registry = await startRegistry({ nats: open });
    const listener = await connect({ servers: open.url });
    try {
      // A subscriber, as every Beacon app is: with one, a publish to a subject no stream
      // takes gets no 503 back, only silence.
      const heard: string[] = [];
      listener.subscribe('beacon.events.service.>', { callback: (_error, message) => heard.push(message.subject) });
      await listener.flush();
      const jsm = await listener.jetstreamManager();
      await jsm.streams.delete(EVENTS_STREAM);
      const service = await registry.register({ name: uniqueName('restream'), host: '10.8.0.2', port: 80 });
      const stored = await waitFor(
        `${EVENTS_STREAM} again, with the registration`,
        async () => {
          const info = await jsm.streams.info(EVENTS_STREAM).catch(() => null);
          if (!info || info.state.messages === 0) return undefined;
          const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq: info.state.last_seq });
          return message.json<{ service: Service }>();
        },
        30_000,
        250,
      );
      expect(stored.service.service_id).toBe(service.service_id);
      expect(heard.length).toBeGreaterThan(0);
    } finally {
      await listener.close();
      await registry.dispose();
      await open.dispose();
    }
  }, 60_000);
});
