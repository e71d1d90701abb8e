import {
  createLan,
  netnsUnavailable,
  probeResult,
  publishProbeResult,
  startApp,
  startRegistry,
  waitFor,
  type AppProcess,
  type Lan,
  type RegistryFixture,
} from '@beacon/testing';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import makeMdns, { type ResponsePacket } from 'multicast-dns';
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * mDNS on a LAN of network namespaces: the announcer in one host, Python's zeroconf (an
 * independent implementation, Debian's python3-zeroconf) browsing from another; NATS and
 * registry-api in the root namespace, services registered through the REST API.
 */
const PYTHON = '/usr/bin/python3';

function skipReason(): string | null {
  const netns = netnsUnavailable();
  if (netns) return netns;
  const zeroconf = spawnSync(PYTHON, ['-c', 'import zeroconf'], { encoding: 'utf8' });
  if (zeroconf.status !== 0) return 'python3-zeroconf is not installed (apt-get install python3-zeroconf)';
  return null;
}

const skip = skipReason();

interface Seen {
  at: number;
  event: 'Added' | 'Updated' | 'Removed' | 'ready';
  type: string;
  name: string;
  port?: number;
  server?: string;
  addresses?: string[];
  properties?: Record<string, string | null>;
}

let lan: Lan;
let registry: RegistryFixture;
let announcer: AppProcess;
let browser: ChildProcess;
const seen: Seen[] = [];
/** Lines from browse.py that are not JSON: the browser's output itself is broken. */
const garbled: string[] = [];

/** A raw mDNS querier in the root namespace (on the LAN through the bridge), from a random port. */
async function querier() {
  const socket = makeMdns({ interface: lan.rootIp, bind: '0.0.0.0', reuseAddr: true, port: 0 });
  const received: ResponsePacket[] = [];
  socket.on('response', (packet: ResponsePacket) => received.push(packet));
  await new Promise<void>((resolve) => socket.once('ready', () => resolve()));
  const sender = socket as unknown as { send(packet: object, to: { address: string; port: number }): void };
  const send = sender.send.bind(sender);
  const dataOf = (record: unknown): unknown => (record as { data?: unknown }).data;
  return {
    /** The answers' data the responder sent back within half a second. */
    async ask(questions: object[], answers: object[] = []): Promise<unknown[]> {
      received.length = 0;
      send({ type: 'query', questions, answers }, { address: '224.0.0.251', port: 5353 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      return received.flatMap((packet) => packet.answers.map(dataOf));
    },
    lastAdditionalTypes: (): string[] => received.flatMap((packet) => packet.additionals.map((record) => String(record.type))).sort(),
    close: () => new Promise<void>((resolve) => socket.destroy(() => resolve())),
  };
}

/**
 * A querier on port 5353 that joins no multicast group: it can hear only unicast answers,
 * so whether the responder answered a QU question by unicast is observable.
 */
async function unicastQuerier() {
  const packet = createRequire(require.resolve('multicast-dns'))('dns-packet') as {
    encode(value: object): Buffer;
    decode(buffer: Buffer): ResponsePacket;
  };
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const received: ResponsePacket[] = [];
  socket.on('message', (message) => received.push(packet.decode(message)));
  await new Promise<void>((resolve) => socket.bind(5353, '0.0.0.0', () => resolve()));
  socket.setMulticastInterface(lan.rootIp);
  return {
    /** One question; `qu` sets the top bit of its class (dns-packet cannot encode it). */
    async ask(question: { name: string; type: string }, qu: boolean): Promise<unknown[]> {
      received.length = 0;
      const query = packet.encode({ type: 'query', questions: [{ ...question, class: 'IN' }] });
      if (qu) query.writeUInt16BE(0x8001, query.length - 2);
      socket.send(query, 5353, '224.0.0.251');
      await new Promise((resolve) => setTimeout(resolve, 500));
      return received.flatMap((response) => (response.answers ?? []).map((record) => (record as { data?: unknown }).data));
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

const resolved = (name: string): Seen | undefined =>
  seen.filter((entry) => entry.name === name && entry.event !== 'Removed' && entry.port !== undefined).at(-1);

/** Services several tests need; registering one again is idempotent (same name, host and port). */
const WEB_ONE = {
  name: 'web-one',
  type: 'http',
  host: '10.42.0.7',
  port: 8080,
  tags: ['iot', 'sensors'],
  version: '1.2.0',
  metadata: { description: 'Plant monitor', rack: 'r1' },
};
const BROKER = { name: 'broker', type: 'mqtt', host: '10.42.0.8', port: 1883 };

/** Registers (again) and waits until the browser resolves the instance. */
async function registerResolved(body: Record<string, unknown>, instance: string): Promise<Seen> {
  await registry.register(body);
  return waitFor(`${instance} resolved`, () => resolved(instance), 10_000);
}

function startAnnouncer(): Promise<AppProcess> {
  const announcerHost = lan.hosts[0] as Lan['hosts'][0];
  return startApp('mdns-announcer', {
    env: {
      NATS_URL: `nats://${lan.rootIp}:${registry.nats.port}`,
      MDNS_INTERFACE: announcerHost.ip,
      MDNS_HOSTNAME: 'beacon-test',
      BEACON_ANNOUNCE_PORT: String(registry.api.port),
      BEACON_ANNOUNCE_NAME: 'Beacon under test',
    },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
    netns: announcerHost,
  });
}

describe.skipIf(skip !== null)(`mdns-announcer on a LAN${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    lan = createLan(2);
    registry = await startRegistry({ natsHost: '0.0.0.0' });
    const browserHost = lan.hosts[1] as Lan['hosts'][0];
    announcer = await startAnnouncer();
    browser = browserHost.spawn(
      PYTHON,
      [join(__dirname, 'browse.py'), '_http._tcp.local.,_mqtt._tcp.local.,_beacon._tcp.local.', browserHost.ip],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    createInterface({ input: browser.stdout! }).on('line', (line) => {
      try {
        seen.push(JSON.parse(line) as Seen);
      } catch {
        garbled.push(line);
      }
    });
    await waitFor('browser ready', () => seen.some((entry) => entry.event === 'ready'), 15_000);
  }, 60_000);

  afterEach(() => {
    expect(garbled, 'lines from browse.py that are not JSON').toEqual([]);
  });

  afterAll(async () => {
    browser?.stdin?.end();
    browser?.kill();
    await announcer?.stop();
    await registry?.dispose();
    lan?.dispose();
  });

  it('is found by zeroconf with the right port, address and TXT', async () => {
    const service = await registry.register(WEB_ONE);
    const found = await waitFor('web-one resolved', () => resolved('web-one._http._tcp.local.'), 10_000);
    expect(found.port).toBe(8080);
    expect(found.addresses).toEqual(['10.42.0.7']);
    expect(found.server).toBe(`web-one-${service.service_id.replaceAll('-', '').slice(0, 8)}.local.`);
    expect(found.properties).toEqual({
      service_id: service.service_id,
      name: 'web-one',
      type: 'http',
      protocol: 'http',
      version: '1.2.0',
      tags: 'iot,sensors',
      description: 'Plant monitor',
      rack: 'r1',
    });
  });

  it('announces MQTT brokers under _mqtt._tcp and Beacon itself under _beacon._tcp', async () => {
    const broker = await registerResolved(BROKER, 'broker._mqtt._tcp.local.');
    expect([broker.port, broker.addresses]).toEqual([1883, ['10.42.0.8']]);
    const beacon = await waitFor('beacon resolved', () => resolved('Beacon under test._beacon._tcp.local.'), 10_000);
    expect(beacon.port).toBe(registry.api.port);
    expect(beacon.server).toBe('beacon-test.local.');
    expect(beacon.addresses).toEqual([lan.hosts[0]?.ip]);
    expect(beacon.properties).toMatchObject({ path: '/api/v1' });
  });

  it('disappears from the browser within 2 s of being deregistered', async () => {
    const service = await registry.register({ name: 'short-lived', type: 'http', host: '10.42.0.9', port: 81 });
    await waitFor('resolved', () => resolved('short-lived._http._tcp.local.'), 10_000);
    const deleted = Date.now() / 1000;
    const response = await fetch(`${registry.base}/services/${service.service_id}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    const removed = await waitFor(
      'removed',
      () => seen.find((entry) => entry.name === 'short-lived._http._tcp.local.' && entry.event === 'Removed'),
      5000,
    );
    expect(removed.at - deleted).toBeLessThan(2);
  });

  it('keeps a service with TXT values over 255 bytes browsable and well-formed', async () => {
    const long = 'ä'.repeat(400);
    await registry.register({
      name: 'wordy',
      type: 'http',
      host: '10.42.0.10',
      port: 82,
      metadata: { notes: long, rack: 'r9' },
      mdns_txt_records: { path: '/x' },
    });
    const found = await waitFor('wordy resolved', () => resolved('wordy._http._tcp.local.'), 10_000);
    const notes = found.properties?.notes ?? '';
    expect(Buffer.byteLength(`notes=${notes}`)).toBeLessThanOrEqual(255);
    expect(notes.length).toBeGreaterThan(100);
    expect(notes).toBe('ä'.repeat(notes.length));
    expect(found.properties).toMatchObject({ rack: 'r9', path: '/x', name: 'wordy' });
  });

  it('answers beacon.mdns.status, which registry-api shows in /api/v1/health', async () => {
    // Its own announced services, and one goodbye, for the counts below.
    await registerResolved(WEB_ONE, 'web-one._http._tcp.local.');
    await registerResolved(BROKER, 'broker._mqtt._tcp.local.');
    const farewell = await registry.register({ name: 'farewell', type: 'http', host: '10.42.0.14', port: 86 });
    await waitFor('farewell resolved', () => resolved('farewell._http._tcp.local.'), 10_000);
    expect((await fetch(`${registry.base}/services/${farewell.service_id}`, { method: 'DELETE' })).status).toBe(204);
    await waitFor(
      'farewell removed',
      () => seen.some((entry) => entry.name === 'farewell._http._tcp.local.' && entry.event === 'Removed'),
      5000,
    );
    // And one query this announcer process has answered.
    const asker = await querier();
    try {
      expect(await asker.ask([{ name: '_http._tcp.local', type: 'PTR' }])).toContain('web-one._http._tcp.local');
    } finally {
      await asker.close();
    }
    const health = await waitFor('mdns in health', async () => {
      const body = (await (await fetch(`${registry.base}/health`)).json()) as {
        mdns: { running: boolean | string; registered_services: number; domain: string };
      };
      return body.mdns.running === true ? body.mdns : undefined;
    });
    expect(health.domain).toBe('local');
    expect(health.registered_services).toBeGreaterThanOrEqual(2);
    const metrics = await (await fetch(`${announcer.url}/metrics`)).text();
    expect(metrics).toMatch(/beacon_mdns_announced_services\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/beacon_mdns_queries_answered_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/beacon_mdns_goodbyes_sent_total\{[^}]*\} [1-9]/);
  });

  it('leaves off a forged record it cannot encode and keeps answering for the rest', async () => {
    // A forged event (anyone on NATS) carrying a record no DNS packet can hold: before,
    // dns-packet threw while encoding and the unhandled rejection ended the process.
    const victim = await registry.register({ name: 'forged-target', type: 'http', host: '10.42.0.15', port: 87 });
    await waitFor('forged-target resolved', () => resolved('forged-target._http._tcp.local.'), 10_000);
    const forged = { ...victim, port: 70_000, host: `${'x'.repeat(70)}.lan`, revision: victim.revision + 1000 };
    const nats: NatsConnection = await connect({ servers: `nats://127.0.0.1:${registry.nats.port}` });
    try {
      const event = { v: 1, type: 'service.updated', timestamp: new Date().toISOString(), revision: forged.revision, service: forged };
      nats.publish('beacon.events.service.updated', JSON.stringify(event));
      await nats.flush();
    } finally {
      await nats.close();
    }
    const after = await registerResolved(
      { name: 'after-forgery', type: 'http', host: '10.42.0.16', port: 88 },
      'after-forgery._http._tcp.local.',
    );
    expect(after.port).toBe(88);
    expect(announcer.child.exitCode).toBeNull();
    const asker = await querier();
    try {
      expect(await asker.ask([{ name: '_http._tcp.local', type: 'PTR' }])).toContain('after-forgery._http._tcp.local');
    } finally {
      await asker.close();
    }
  });

  it('withdraws a service whose health checks fail', async () => {
    const service = await registry.register({
      name: 'sickly',
      type: 'http',
      host: '10.42.0.13',
      port: 85,
      health_check_url: 'http://10.42.0.13:85/h',
      health_check_retries: 1,
    });
    await waitFor('sickly resolved', () => resolved('sickly._http._tcp.local.'), 10_000);
    const client: NatsConnection = await connect({ servers: registry.nats.url });
    const result = probeResult(service, { ok: false, health: 'unhealthy', outcome: 'error', status_code: null, error: 'ECONNREFUSED' });
    expect(result.target).toBe('http://10.42.0.13:85/h');
    publishProbeResult(client, result);
    await client.drain();
    await waitFor(
      'sickly removed',
      () => seen.some((entry) => entry.name === 'sickly._http._tcp.local.' && entry.event === 'Removed'),
      5000,
    );
  });

  it('follows the responder rules: enumeration, unicast answers (legacy and QU), known-answer suppression', async () => {
    await registerResolved(BROKER, 'broker._mqtt._tcp.local.');
    const legacy = await querier();
    try {
      const enumeration = await legacy.ask([{ name: '_services._dns-sd._udp.local', type: 'PTR' }]);
      expect(enumeration.map(String).sort()).toEqual(
        expect.arrayContaining(['_beacon._tcp.local', '_http._tcp.local', '_mqtt._tcp.local']),
      );

      // From a port other than 5353: a legacy unicast query, answered to that port, with additionals.
      expect(await legacy.ask([{ name: '_mqtt._tcp.local', type: 'PTR' }])).toContain('broker._mqtt._tcp.local');
      expect(legacy.lastAdditionalTypes()).toEqual(['A', 'SRV', 'TXT']);

      // Knowing the answer already (with more than half its TTL left), the querier gets none.
      const known = [{ name: '_mqtt._tcp.local', type: 'PTR', ttl: 4500, data: 'broker._mqtt._tcp.local' }];
      expect(await legacy.ask([{ name: '_mqtt._tcp.local', type: 'PTR' }], known)).not.toContain('broker._mqtt._tcp.local');
    } finally {
      // Closed first: while any socket here is in the group, Linux hands group traffic to every socket on 5353.
      await legacy.close();
    }
    const unicastOnly = await unicastQuerier();
    try {
      // The QU bit asks for a unicast answer; without it the answer is multicast, which this socket does not hear.
      expect(await unicastOnly.ask({ name: '_mqtt._tcp.local', type: 'PTR' }, true)).toContain('broker._mqtt._tcp.local');
      expect(await unicastOnly.ask({ name: '_mqtt._tcp.local', type: 'PTR' }, false)).not.toContain('broker._mqtt._tcp.local');
    } finally {
      await unicastOnly.close();
    }
  });

  it('gives services that share a name distinct instance names', async () => {
    const name = `twin-${randomUUID().slice(0, 4)}`;
    await registry.register({ name, type: 'http', host: '10.42.0.11', port: 83 });
    await registry.register({ name, type: 'http', host: '10.42.0.12', port: 84 });
    const first = await waitFor('first twin', () => resolved(`${name}._http._tcp.local.`), 10_000);
    const second = await waitFor('second twin', () => resolved(`${name} (2)._http._tcp.local.`), 10_000);
    expect([first.port, second.port]).toEqual([83, 84]);
  });

  it('says goodbye for everything on SIGTERM', async () => {
    const names = ['web-one._http._tcp.local.', 'broker._mqtt._tcp.local.', 'Beacon under test._beacon._tcp.local.'];
    await registerResolved(WEB_ONE, names[0] as string);
    await registerResolved(BROKER, names[1] as string);
    await waitFor('beacon resolved', () => resolved(names[2] as string), 10_000);
    const stoppedAt = Date.now() / 1000;
    expect(await announcer.stop('SIGTERM')).toBe(0);
    for (const name of names) {
      const removed = await waitFor(
        `${name} removed`,
        () => seen.find((entry) => entry.name === name && entry.event === 'Removed' && entry.at >= stoppedAt),
        5000,
      );
      expect(removed.at - stoppedAt).toBeLessThan(2);
    }
    // Up again, so no test depends on running before this one.
    announcer = await startAnnouncer();
  });
});
