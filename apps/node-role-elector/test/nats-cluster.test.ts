import { ELECTION_BUCKET, EVENTS_STREAM, SERVER_LEASE_KEY, Subjects, type ServiceEvent } from '@beacon/contracts';
import { WsClient, register, sleep, startApp, startNatsCluster, waitFor, type AppProcess, type NatsClusterHandle } from '@beacon/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenureTracker, discovery, settled, startElector, type Elector, type RoleEvent } from './support';

/**
 * Issue 14 item 6: a three-node JetStream cluster on loopback, registry-api,
 * realtime-gateway and two electors given all three URLs and BEACON_JETSTREAM_REPLICAS=3.
 * Killing the node that leads the election bucket, then (after the first is back and
 * caught up: three nodes keep quorum through one loss only) the node that leads
 * BEACON_EVENTS, must leave exactly one server and every registered event stored.
 *
 * The failure this guards against: BEACON_TEST_REPLICAS=1 runs the same suite with R1
 * assets, and "exactly one server" then times out — the bucket's only copy died with its
 * node, both electors stay agent (what the issue saw).
 */
const REPLICAS = Number(process.env.BEACON_TEST_REPLICAS ?? 3);
/**
 * The elector's default lease. Not shorter: after its leader's node dies, a JetStream
 * asset on nats-server 2.9 has no leader until a follower's raft election timer fires
 * (randomised, 4–9 s; measured up to 10.2 s here), and no lease can be written meanwhile.
 * With a 3 s lease the server must step down (it cannot confirm its tenure) and nobody can
 * take over before the new leader, so "within lease + 2 s" would hold only by luck.
 */
const TTL_MS = 10_000;
/**
 * The deadline is lease + 2 s; the assertion allows 3 s more, because this
 * machine's two cores are shared with other suites. The measured time is printed.
 */
const FAILOVER_DEADLINE_MS = TTL_MS + 2000;
const LOAD_SLACK_MS = 3000;
const KV_STREAM = `KV_${ELECTION_BUCKET}`;

let cluster: NatsClusterHandle;
let admin: NatsConnection;
let jsm: JetStreamManager;
let lease: KV;
let dir: string;
let registry: AppProcess;
let gateway: AppProcess;
let live: WsClient;
const electors: Elector[] = [];
const roleEvents: RoleEvent[] = [];
const tracker = new TenureTracker();
/** Accepted registrations the stream did not keep, from the last kill's test. */
let missing: string[] | undefined;

/** Registrations made one after another until stopped; `accepted` holds those answered 201. */
class RegistrationPump {
  /** Every pump's accepted registrations, for the final check that the stream holds them all. */
  static readonly everyAccepted: string[] = [];
  readonly accepted: string[] = [];
  failures = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(prefix: string) {
    this.done = (async () => {
      for (let i = 0; this.running; i += 1) {
        try {
          const service = await register(registry.url, { name: `${prefix}-${i}`, host: '10.7.0.1', port: 1000 + i });
          this.accepted.push(service.service_id);
          RegistrationPump.everyAccepted.push(service.service_id);
        } catch {
          this.failures += 1;
        }
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

async function leaderOf(stream: string): Promise<string> {
  const { cluster: info } = await jsm.streams.info(stream);
  if (!info?.leader) throw new Error(`${stream} has no leader`);
  return info.leader;
}

/** Waits until every replica of `stream` is online and current (a restarted node has caught up). */
async function caughtUp(stream: string, timeoutMs: number): Promise<void> {
  let last = '';
  await waitFor(
    `${stream} caught up on every replica`,
    async () => {
      const { cluster: info, config } = await jsm.streams.info(stream);
      last = JSON.stringify(info);
      const replicas = info?.replicas ?? [];
      return Boolean(info?.leader) && replicas.length === config.num_replicas - 1 && replicas.every((r) => r.current && !r.offline);
    },
    timeoutMs,
    250,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last seen: ${last}`);
  });
}

/** One elector is server, the other its agent, and the server has written the lease since `revision`. */
async function oneServerWritingSince(revision: number): Promise<string | undefined> {
  const { server } = await settled(electors, 200);
  const entry = await lease.get(SERVER_LEASE_KEY);
  if (!entry || entry.operation !== 'PUT' || entry.revision <= revision) return undefined;
  return entry.json<{ node_id: string }>().node_id === server.nodeId ? server.nodeId : undefined;
}

/** The service ids of every `service_registered` event BEACON_EVENTS holds. */
async function storedRegistrations(): Promise<Set<string>> {
  const { first_seq: first, last_seq: last } = (await jsm.streams.info(EVENTS_STREAM)).state;
  const ids = new Set<string>();
  for (let seq = first; seq <= last && last > 0; seq += 1) {
    const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (message.subject === Subjects.serviceRegistered) ids.add(message.json<ServiceEvent>().service.service_id);
  }
  return ids;
}

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  admin = await connect({ servers: cluster.nodes.map((node) => node.url), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  jsm = await admin.jetstreamManager({ timeout: 5000 });
  // A role event whose store ack was lost is sent again, identical: hear each once.
  const heard = new Set<string>();
  admin.subscribe(Subjects.nodeRoleChanged, {
    callback: (_error, message) => {
      const text = message.string();
      if (!heard.has(text)) roleEvents.push(message.json<RoleEvent>());
      heard.add(text);
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'beacon-nats-cluster-'));
  const common = { NATS_URL: cluster.urls, BEACON_JETSTREAM_REPLICAS: String(REPLICAS) };
  registry = await startApp('registry-api', {
    env: {
      ...common,
      BEACON_SQLITE_PATH: join(dir, 'beacon.db'),
      BEACON_REGISTRATIONS_PER_SECOND: '0',
      BEACON_ON_DEMAND_CHECKS_PER_MINUTE: '0',
    },
    portVariable: 'BEACON_PORT',
  });
  // At info, so a failure below can show what its feed did.
  gateway = await startApp('realtime-gateway', { env: { ...common, LOG_LEVEL: 'info' }, portVariable: 'HTTP_PORT', readyPath: '/ready' });
  live = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws`);
  for (const nodeId of ['e1', 'e2']) {
    if (nodeId === 'e2') lease = await admin.jetstream({ timeout: 5000 }).views.kv(ELECTION_BUCKET, { bindOnly: true });
    electors.push(
      await startElector(nodeId, {
        ...common,
        ELECTION_LEASE_TTL: String(TTL_MS / 1000),
        SERVER_ADVERTISE_HOST: '127.0.0.1',
        SERVER_ADVERTISE_PORT: '8097',
      }),
    );
  }
}, 90_000);

afterAll(async () => {
  live?.close();
  for (const app of [...electors, gateway, registry]) await app?.stop('SIGKILL');
  await admin?.close().catch(() => undefined);
  await cluster?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`a three-node NATS cluster losing one node at a time (JetStream replicas ${REPLICAS})`, () => {
  it('gives the event stream and the election bucket BEACON_JETSTREAM_REPLICAS', async () => {
    await settled(electors);
    for (const stream of [EVENTS_STREAM, KV_STREAM]) {
      expect((await jsm.streams.info(stream)).config.num_replicas, stream).toBe(REPLICAS);
      await caughtUp(stream, 20_000);
    }
  });

  it('kill -9 of the node leading the election bucket: exactly one server again within lease + 2 s, events flowing', async () => {
    await settled(electors);
    const before = (await lease.get(SERVER_LEASE_KEY))?.revision ?? 0;
    const pump = new RegistrationPump('kv-loss');
    const victim = await leaderOf(KV_STREAM);
    const killedAt = Date.now();
    await cluster.node(victim).kill();

    const server = await waitFor('exactly one server, writing its lease', () => oneServerWritingSince(before), 30_000, 50);
    const elapsed = Date.now() - killedAt;
    console.log(`election bucket leader ${victim} killed: ${server} server again, lease written, after ${elapsed} ms`);
    expect(elapsed).toBeLessThanOrEqual(FAILOVER_DEADLINE_MS + LOAD_SLACK_MS);
    // Still exactly one a while later: the tenure holds.
    await sleep(TTL_MS / 2);
    expect((await Promise.all(electors.map(discovery))).filter((view) => view.mode === 'server')).toHaveLength(1);
    expect(tracker.violations(roleEvents)).toEqual([]);

    // Registrations made once the election is back reach a WebSocket client.
    const after = pump.accepted.length;
    await waitFor('registrations after the failover', () => pump.accepted.length >= after + 3, 15_000);
    await pump.stop();
    const late = new Set(pump.accepted.slice(after));
    await live
      .waitForEvents(late.size, (m) => m.type === 'service_registered' && late.has(m.data?.service_id ?? ''), 30_000)
      .catch(async (e) => {
        // What registry-api's outbox and the gateway say, for whoever reads a failure.
        const series = async (url: string, pattern: RegExp): Promise<string> =>
          (await (await fetch(`${url}/metrics`)).text())
            .split('\n')
            .filter((line) => pattern.test(line) && !line.startsWith('#'))
            .join(' | ');
        const outbox = await series(registry.url, /outbox|events_published/);
        const feed = await series(gateway.url, /^beacon_(gateway|nats)/);
        const got = live.messages.filter((m) => m.type === 'service_registered').map((m) => m.data?.service_id);
        throw new Error(
          `${e}; ws got ${got.length} registered, of late ${late.size}: ${[...late].filter((id) => got.includes(id)).length}; types ${JSON.stringify(live.messages.slice(-5))}; closed ${JSON.stringify(live.closed)}; registry-api: ${outbox}; gateway: ${feed}; gateway log: ${gateway.output().slice(-6000)}`,
        );
      });
  });

  it('kill -9 of the node leading BEACON_EVENTS (the first one back and caught up): no registered event missing', async () => {
    await Promise.all(cluster.nodes.filter((node) => !node.running).map((node) => node.start()));
    for (const stream of [EVENTS_STREAM, KV_STREAM]) {
      await caughtUp(stream, 30_000);
    }
    const pump = new RegistrationPump('stream-loss');
    await waitFor('registrations before the kill', () => pump.accepted.length >= 3, 10_000);
    const victim = await leaderOf(EVENTS_STREAM);
    const killedAt = Date.now();
    await cluster.node(victim).kill();
    const leader = await waitFor(
      'a new BEACON_EVENTS leader',
      async () => {
        const now = await leaderOf(EVENTS_STREAM).catch(() => undefined);
        return now !== victim && now;
      },
      30_000,
      250,
    );
    console.log(`BEACON_EVENTS leader ${victim} killed: ${leader} leads after ${Date.now() - killedAt} ms`);
    const after = pump.accepted.length;
    await waitFor('registrations after the new leader', () => pump.accepted.length >= after + 5, 30_000);
    await pump.stop();

    const accepted = new Set(RegistrationPump.everyAccepted);
    // What registry-api accepted while the stream had no leader waits in its outbox until one acknowledges it.
    await waitFor(
      "registry-api's outbox drained",
      async () => /^beacon_outbox_depth(?:\{[^}]*\})? 0$/m.test(await (await fetch(`${registry.url}/metrics`)).text()),
      30_000,
      250,
    );
    const stored = await storedRegistrations();
    missing = [...accepted].filter((id) => !stored.has(id));
    console.log(`${accepted.size} registrations accepted, ${pump.failures} refused, missing ${missing.length}`);
    // Registrations once the new leader is in place are all stored; so is everything before the kill.
    const afterLeader = pump.accepted.slice(after);
    expect(afterLeader.filter((id) => !stored.has(id))).toEqual([]);
    await settled(electors);
    expect(tracker.violations(roleEvents)).toEqual([]);
  });

  /**
   * registry-api writes each event to its outbox with the change, and sends it with an acked
   * JetStream publish, again until a leader stores it: what it accepted while BEACON_EVENTS
   * had no leader is stored once one is elected.
   */
  it('loses no registered event across both kills', () => {
    expect(missing).toEqual([]);
  });
});
