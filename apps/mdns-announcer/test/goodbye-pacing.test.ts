import {
  createLan,
  fetchJson,
  netnsUnavailable,
  startApp,
  startRegistry,
  waitFor,
  type AppProcess,
  type Lan,
  type RegistryFixture,
} from '@beacon/testing';
import type { Service } from '@beacon/contracts';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import type { ResponsePacket } from 'multicast-dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Thousands of services leaving at once: the announcer (in a network namespace) must
 * withdraw them at the pace it announces at (RFC 6762 §6), not in one burst, and a service
 * that comes back while its goodbye still waits must not be withdrawn. A raw listener on
 * 224.0.0.251:5353 in the root namespace counts what arrives, packet by packet.
 */
const skip = netnsUnavailable();

const SERVICES = 4_000;
/** Deregistered last and registered again at once: their goodbyes are still queued. */
const RETURNING = 50;
/** The announcer's budget: 50 groups per 100 ms tick, 5 to a packet. */
const GROUPS_PER_TICK = 50;
const GROUPS_PER_PACKET = 5;

const dnsPacket = createRequire(require.resolve('multicast-dns'))('dns-packet') as { decode(buffer: Buffer): ResponsePacket };

/** What the listener reads of an answer. */
interface HeardRecord {
  name: string;
  type: string;
  ttl?: number;
  data: unknown;
}

interface Heard {
  at: number;
  /** SRV owner names announced (TTL > 0) and withdrawn (TTL 0) in this packet: one per group. */
  announced: string[];
  withdrawn: { name: string; target: string }[];
  /** Instances whose PTR was withdrawn: gone from browsers. */
  unlisted: string[];
}

/**
 * Joins 224.0.0.251 on the given address and prints each packet received on 5353, with
 * when it came (taken here, away from the test process's HTTP work) and from where.
 */
const LISTENER = `
const socket = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (message, from) =>
  process.stdout.write(JSON.stringify({ at: Date.now(), from: from.address, hex: message.toString('hex') }) + '\\n'));
socket.bind(5353, '0.0.0.0', () => {
  socket.addMembership('224.0.0.251', process.argv[1]);
  process.stdout.write('ready\\n');
});
`;

const instance = (n: number): string => `goodbye-${n}._http._tcp.local`;

let lan: Lan;
let registry: RegistryFixture;
let announcer: AppProcess;
let listener: ChildProcess;
let listening = false;
const heard: Heard[] = [];

/** Runs `task` over `items`, `width` at a time. */
async function eachConcurrently<T>(items: T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

async function register(n: number): Promise<Service> {
  return registry.register({ name: `goodbye-${n}`, type: 'http', host: `10.9.${n >> 8}.${n & 255}`, port: 8000 + (n % 1000) });
}

async function deregister(service: Service): Promise<void> {
  const { status } = await fetchJson('DELETE', `${registry.base}/services/${service.service_id}`);
  if (status !== 204) throw new Error(`DELETE answered ${status}`);
}

describe.skipIf(skip !== null)(`mdns-announcer goodbyes${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    lan = createLan(2);
    const host = lan.hosts[0] as Lan['hosts'][0];
    registry = await startRegistry({ natsHost: '0.0.0.0' });
    // In a namespace of its own: a socket in the root namespace's group would hand group
    // traffic to every other suite's socket on port 5353 there (Linux's IP_MULTICAST_ALL).
    const listenerHost = lan.hosts[1] as Lan['hosts'][0];
    listener = listenerHost.spawn(process.execPath, ['-e', LISTENER, listenerHost.ip], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: listener.stdout! }).on('line', (line) => {
      if (line === 'ready') {
        listening = true;
        return;
      }
      const { at, from, hex } = JSON.parse(line) as { at: number; from: string; hex: string };
      if (from !== host.ip) return;
      const answers = (dnsPacket.decode(Buffer.from(hex, 'hex')).answers ?? []) as unknown as HeardRecord[];
      const srv = answers.filter((record) => record.type === 'SRV' && String(record.name).startsWith('goodbye-'));
      heard.push({
        at,
        announced: srv.filter((record) => record.ttl !== 0).map((record) => String(record.name)),
        withdrawn: srv
          .filter((record) => record.ttl === 0)
          .map((record) => ({ name: String(record.name), target: (record.data as { target: string }).target })),
        unlisted: answers.filter((record) => record.type === 'PTR' && record.ttl === 0).map((record) => String(record.data)),
      });
    });
    await waitFor('listener in the group', () => listening, 10_000);
    announcer = await startApp('mdns-announcer', {
      env: { NATS_URL: `nats://${lan.rootIp}:${registry.nats.port}`, MDNS_INTERFACE: host.ip, MDNS_HOSTNAME: 'beacon-goodbyes' },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
      netns: host,
    });
  }, 60_000);

  afterAll(async () => {
    await announcer?.stop();
    listener?.kill();
    await registry?.dispose();
    lan?.dispose();
  });

  it('withdraws 4,000 services at the announcement pace, and not the ones that came back', async () => {
    const services: Service[] = [];
    await eachConcurrently(
      Array.from({ length: SERVICES }, (_, n) => n),
      16,
      async (n) => {
        services[n] = await register(n);
      },
    );
    const leaving = services.slice(0, SERVICES - RETURNING);
    const returning = services.slice(SERVICES - RETURNING);
    await eachConcurrently(leaving, 16, deregister);
    await eachConcurrently(returning, 16, deregister);
    const returnedAt = heard.length;
    const returned: Service[] = [];
    await eachConcurrently(
      returning.map((_, index) => SERVICES - RETURNING + index),
      16,
      async (n) => {
        returned.push(await register(n));
      },
    );
    // Registering a deleted identity again takes its id back (its tombstone is cleared).
    expect(new Set(returned.map((service) => service.service_id))).toEqual(new Set(returning.map((service) => service.service_id)));

    const withdrawn = (): Set<string> => new Set(heard.flatMap((packet) => packet.withdrawn.map((record) => record.name)));
    const leavingNames = leaving.map((_, n) => instance(n));
    await waitFor(
      'a goodbye for every service that left',
      () => {
        const gone = withdrawn();
        return leavingNames.every((name) => gone.has(name));
      },
      120_000,
      250,
    );
    const returnedNames = returning.map((_, index) => instance(SERVICES - RETURNING + index));
    await waitFor(
      'the returning services announced again',
      () => {
        const announced = new Set(heard.slice(returnedAt).flatMap((packet) => packet.announced));
        return returnedNames.every((name) => announced.has(name));
      },
      60_000,
      250,
    );

    // Several groups to a packet, never more than the budget allows.
    for (const packet of heard) expect(packet.announced.length + packet.withdrawn.length).toBeLessThanOrEqual(GROUPS_PER_PACKET);
    // At most a tick's budget per 100 ms: counted over any 10 consecutive 100 ms windows,
    // with two ticks of slack for a listener that fell behind on a loaded machine.
    const start = heard[0]?.at ?? 0;
    const perWindow: number[] = [];
    for (const packet of heard) {
      const window = Math.floor((packet.at - start) / 100);
      perWindow[window] = (perWindow[window] ?? 0) + packet.announced.length + packet.withdrawn.length;
    }
    let busiest = 0;
    for (let first = 0; first < perWindow.length; first += 1) {
      let sum = 0;
      for (let window = first; window < first + 10 && window < perWindow.length; window += 1) sum += perWindow[window] ?? 0;
      busiest = Math.max(busiest, sum);
    }
    expect(busiest, `groups per second at the busiest; per 100 ms: ${perWindow.map((count) => count ?? 0).join(' ')}`).toBeLessThanOrEqual(
      12 * GROUPS_PER_TICK,
    );

    // Every service that stayed away is gone from browsers; the ones that came back are not,
    // and since they came back under the same id (so the same SRV target), nothing of theirs
    // was withdrawn: their queued goodbyes were dropped.
    const unlisted = new Set(heard.flatMap((packet) => packet.unlisted.map((name) => name.toLowerCase())));
    for (const [n] of leaving.entries()) expect(unlisted.has(instance(n))).toBe(true);
    for (const name of returnedNames) expect(unlisted.has(name.toLowerCase()), name).toBe(false);
    const gone = withdrawn();
    for (const name of returnedNames) expect(gone.has(name), name).toBe(false);
  }, 240_000);

  it('says goodbye on SIGTERM at the same pace for up to 2 s, then exits', async () => {
    const more = Array.from({ length: 3_000 }, (_, index) => SERVICES + index);
    await eachConcurrently(more, 16, async (n) => {
      await register(n);
    });
    const held = RETURNING + more.length;
    await waitFor(
      'every service held by the announcer',
      async () => {
        const { body } = await fetchJson<{ mdns?: { registered_services?: number } }>('GET', `${announcer.url}/health`);
        return (body.mdns?.registered_services ?? 0) >= held;
      },
      60_000,
      250,
    );
    const from = heard.length;
    expect(await announcer.stop('SIGTERM')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const farewell = new Set(heard.slice(from).flatMap((packet) => packet.withdrawn.map((record) => record.name)));
    // A first tick's worth at once, then one every 100 ms for 2 s: at most 21 ticks of 50,
    // however slow the machine (a slow one sends fewer), never the 3,050 in one burst.
    expect(farewell.size).toBeGreaterThanOrEqual(GROUPS_PER_TICK);
    expect(farewell.size).toBeLessThanOrEqual(21 * GROUPS_PER_TICK);
    for (const packet of heard.slice(from)) expect(packet.withdrawn.length).toBeLessThanOrEqual(GROUPS_PER_PACKET);
  }, 180_000);
});
