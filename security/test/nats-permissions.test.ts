import {
  ELECTION_BUCKET,
  READER_IDENTITY,
  SERVER_LEASE_KEY,
  Subjects,
  type NatsIdentity,
  type ProbeResultEvent,
  type Service,
} from '@beacon/contracts';
import {
  REPO_ROOT,
  WsClient,
  fetchJson,
  probeResult,
  startApp,
  startNatsServer,
  startRegistry,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, Events, type NatsConnection, type NatsError } from 'nats';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13, finding 1: NATS was an unauthenticated control plane. Here the real nats-server
 * runs Beacon's permissioned config (libs/contracts nats-permissions.ts) and every app runs
 * as its own identity. Each app still does its job; each forged act is first done by the
 * identity it belongs to (and takes effect), then by another one, which the server refuses
 * with a permissions violation, changing nothing.
 */

let nats: NatsServerHandle;
let registry: RegistryFixture;
let target: Server;
let targetUrl = '';
const apps: Record<string, AppProcess> = {};
const connections: NatsConnection[] = [];
/** Everything the read-only identity heard on beacon.events.>, in order. */
const heard: { subject: string; data: Record<string, unknown> }[] = [];

const encode = (document: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(document));
const decode = <T>(data: Uint8Array): T => JSON.parse(new TextDecoder().decode(data)) as T;

/** The variables an app connects as `identity` with. */
function as(identity: NatsIdentity): Record<string, string> {
  const found = nats.identities?.[identity];
  if (!found) throw new Error(`no credentials for ${identity}`);
  return { NATS_URL: nats.url, NATS_USER: found.NATS_USER, NATS_PASSWORD_FILE: found.NATS_PASSWORD_FILE };
}

/** A connection of the test's own as `identity`, recording the errors the server sends it. */
async function connectAs(identity: NatsIdentity): Promise<NatsConnection & { errors: string[] }> {
  const connection = await connect({ servers: nats.url, ...nats.credentials(identity) });
  const errors: string[] = [];
  void (async () => {
    for await (const status of connection.status())
      if (status.type === Events.Error) errors.push(typeof status.data === 'string' ? status.data : JSON.stringify(status.data));
  })();
  connections.push(connection);
  return Object.assign(connection, { errors });
}

/** Publishes as `identity` and insists the server refused it (it sends the violation back). */
async function refusedPublish(identity: NatsIdentity, subject: string, document: unknown): Promise<void> {
  const forger = await connectAs(identity);
  forger.publish(subject, encode(document));
  await forger.flush();
  await waitFor(`a permissions violation for ${identity} on ${subject}`, () => forger.errors.includes('PERMISSIONS_VIOLATION'));
}

/** Requests as `identity` and insists the server refused to carry the request. */
async function refusedRequest(identity: NatsIdentity, subject: string, document: unknown): Promise<void> {
  const forger = await connectAs(identity);
  const error = await forger.request(subject, encode(document), { timeout: 3000 }).then(
    () => null,
    (failure: NatsError) => failure,
  );
  // nats.js matches the server's "Permissions Violation for Publish to <subject>" to the request.
  expect(error?.code, `${identity} requesting ${subject}`).toBe('PERMISSIONS_VIOLATION');
  expect(error?.message).toContain(`Publish to "${subject}"`);
}

const service = async (id: string): Promise<Service> => (await fetchJson<Service>('GET', `${registry.base}/services/${id}`)).body;

const startWorker = (name: string, identity: NatsIdentity, env: Record<string, string> = {}, portVariable = 'HTTP_PORT') =>
  startApp(name, { env: { ...as(identity), ...env }, portVariable, readyPath: '/ready', timeoutMs: 40_000 });

beforeAll(async () => {
  nats = await startNatsServer({ auth: true });
  target = createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/health`;

  const reader = await connectAs(READER_IDENTITY);
  reader.subscribe('beacon.events.>', {
    callback: (_error, message) => heard.push({ subject: message.subject, data: decode(message.data) }),
  });
  await reader.flush();

  registry = await startRegistry({ nats, env: as('registry-api') });
  const [reaper, prober, announcer, elector, gateway] = await Promise.all([
    startWorker('ttl-reaper', 'ttl-reaper'),
    startWorker('health-prober', 'health-prober'),
    startWorker('mdns-announcer', 'mdns-announcer', { MDNS_HOSTNAME: 'beacon-permissions-test' }),
    startWorker('node-role-elector', 'node-role-elector', { NODE_ID: 'node-a', DISCOVERY_BACKEND: 'nats' }, 'ELECTOR_PORT'),
    startWorker('realtime-gateway', 'realtime-gateway'),
  ]);
  Object.assign(apps, { reaper, prober, announcer, elector, gateway });
}, 90_000);

afterAll(async () => {
  for (const connection of connections) await connection.close().catch(() => undefined);
  await Promise.all(Object.values(apps).map((app) => app.stop()));
  await registry?.dispose();
  await nats?.dispose();
  target?.close();
});

describe('every app works as its own NATS identity', () => {
  it('registers, checks, expires, elects, streams and announces, with no permissions violation', async () => {
    const short = await registry.register({ name: 'perm-expiring', host: '192.0.2.1', port: 80, ttl: 10 });
    const checked = await registry.register({
      name: 'perm-checked',
      host: '127.0.0.1',
      port: 80,
      ttl: 300,
      health_check_url: targetUrl,
      health_check_interval: 2,
      health_check_retries: 1,
      health_check_rise: 1,
    });
    const about = (id: string, subject: string) => (): boolean =>
      heard.some((m) => m.subject === subject && JSON.stringify(m.data).includes(id));

    // registry-api publishes catalog events, and the read-only identity hears them.
    await waitFor('service.registered heard by beacon-reader', about(checked.service_id, Subjects.serviceRegistered));
    // health-prober follows the catalog (snapshot + events), checks, and publishes the result registry-api applies.
    await waitFor('probe.result heard by beacon-reader', about(checked.service_id, Subjects.probeResult), 20_000);
    await waitFor('the check applied', async () => (await service(checked.service_id)).health === 'healthy', 10_000);
    // registry-api asks health-prober for an on-demand check, and mdns-announcer for its status.
    const onDemand = await fetchJson<{ result: { outcome: string } }>(
      'POST',
      `${registry.base}/services/${checked.service_id}/health-check`,
    );
    expect(onDemand.status).toBe(200);
    expect(onDemand.body.result.outcome).toBe('healthy');
    const health = await fetchJson<{ mdns: { running: unknown } }>('GET', `${registry.base}/health`);
    expect(health.body.mdns.running).toBe(true);

    // node-role-elector takes its lease in the KV bucket and publishes its role.
    await waitFor('the elector to be server', async () => {
      const discovery = (await fetchJson<{ mode: string; fencing_token: number | null }>('GET', `${apps.elector?.url}/discovery`)).body;
      return discovery.mode === 'server' && typeof discovery.fencing_token === 'number';
    });
    await waitFor('node.role_changed heard by beacon-reader', () => heard.some((m) => m.subject === Subjects.nodeRoleChanged));

    // realtime-gateway replays from the stream (a JetStream consumer) and streams live events.
    const ws = await WsClient.connect(`ws://127.0.0.1:${apps.gateway?.port}/api/v1/ws?since=1`);
    try {
      await ws.waitForEvents(1, (m) => m.data?.service_id === checked.service_id && m.type === 'service_registered');
      const later = await registry.register({ name: 'perm-live', host: '192.0.2.2', port: 80 });
      await ws.waitForEvents(1, (m) => m.data?.service_id === later.service_id);
    } finally {
      ws.close();
    }

    // ttl-reaper expires the 10 s service on time.
    await waitFor('ttl-reaper to expire it', about(short.service_id, Subjects.serviceExpired), 30_000, 200);
    expect((await service(short.service_id)).status).toBe('expired');

    // Every app did all of that within its permissions.
    expect(nats.output).not.toMatch(/Violation/);
  }, 60_000);
});

describe('a forged act from another identity is refused by the server and changes nothing', () => {
  it('an unauthenticated or wrong-password connection is refused; the right password connects', async () => {
    const refused = async (options: { user?: string; pass?: string }): Promise<string | undefined> =>
      connect({ servers: nats.url, reconnect: false, ...options }).then(
        async (connection) => {
          await connection.close();
          return 'connected';
        },
        (error: NatsError) => error.code,
      );
    expect(await refused({})).toBe('AUTHORIZATION_VIOLATION');
    expect(await refused({ user: 'ttl-reaper', pass: 'not-its-password' })).toBe('AUTHORIZATION_VIOLATION');
    expect(await refused({ user: 'ttl-reaper', pass: nats.identities?.['ttl-reaper'].password })).toBe('connected');
  });

  it('probe results: health-prober’s identity flips a service’s health; ttl-reaper’s and beacon-reader’s are refused', async () => {
    const watched = await registry.register({
      name: 'perm-probed',
      host: '127.0.0.1',
      port: 81,
      health_check_url: targetUrl,
      health_check_interval: 3600,
      health_check_retries: 1,
      health_check_rise: 1,
    });
    // Dated an hour ahead: registry-api ignores results older than the last one applied, so
    // the real prober's own checks of this target cannot undo (or mask) what these do.
    const checkedAt = (): string => new Date(Date.now() + 3_600_000).toISOString();
    const failing = (): ProbeResultEvent => {
      const result = probeResult(watched, {
        ok: false,
        health: 'unhealthy',
        outcome: 'unhealthy',
        status_code: 500,
        error: 'forged',
        checked_at: checkedAt(),
      });
      return { v: 1, type: 'probe.result', timestamp: result.checked_at, result };
    };

    const prober = await connectAs('health-prober');
    prober.publish(Subjects.probeResult, encode(failing()));
    await waitFor('the rightful result applied', async () => (await service(watched.service_id)).health === 'unhealthy');

    const passing = (): ProbeResultEvent => {
      const result = probeResult(watched, { checked_at: checkedAt() });
      return { v: 1, type: 'probe.result', timestamp: result.checked_at, result };
    };
    await refusedPublish('ttl-reaper', Subjects.probeResult, passing());
    await refusedPublish(READER_IDENTITY, Subjects.probeResult, passing());
    expect((await service(watched.service_id)).health).toBe('unhealthy');
  });

  it('expire and purge: refused from health-prober and beacon-reader, done by ttl-reaper', async () => {
    // The real reaper would expire the victim on time itself: this test plays it.
    await apps.reaper?.stop();
    const victim = await registry.register({ name: 'perm-victim', host: '192.0.2.3', port: 80, ttl: 10 });
    const expire = { service_id: victim.service_id, expires_at: victim.expires_at };
    const expiredEvents = (): number =>
      heard.filter((m) => m.subject === Subjects.serviceExpired && JSON.stringify(m.data).includes(victim.service_id)).length;
    await waitFor('the victim to be due', () => Date.now() > Date.parse(victim.expires_at) + 200, 15_000, 200);

    await refusedRequest('health-prober', Subjects.registryExpire, expire);
    await refusedRequest(READER_IDENTITY, Subjects.registryExpire, expire);
    expect(expiredEvents()).toBe(0);

    const reaper = await connectAs('ttl-reaper');
    const expired = decode<{ expired: boolean }>((await reaper.request(Subjects.registryExpire, encode(expire), { timeout: 5000 })).data);
    expect(expired.expired).toBe(true);
    await waitFor('service.expired', () => expiredEvents() === 1);

    const purge = { older_than: new Date().toISOString() };
    await refusedRequest(READER_IDENTITY, Subjects.registryPurge, purge);
    await refusedRequest('realtime-gateway', Subjects.registryPurge, purge);
    expect((await fetchJson('GET', `${registry.base}/services/${victim.service_id}`)).status).toBe(200);
    const purged = decode<{ removed: number }>((await reaper.request(Subjects.registryPurge, encode(purge), { timeout: 5000 })).data);
    expect(purged.removed).toBeGreaterThanOrEqual(1);
    expect((await fetchJson('GET', `${registry.base}/services/${victim.service_id}`)).status).toBe(404);
  }, 30_000);

  it('the catalog snapshot: answered for an app that keeps a catalog view, refused for beacon-reader', async () => {
    const known = await registry.register({ name: 'perm-snapshot', host: '192.0.2.4', port: 80 });
    const announcer = await connectAs('mdns-announcer');
    const page = decode<{ services: Service[] }>(
      (await announcer.request(Subjects.registrySnapshot, encode({ limit: 5000 }), { timeout: 5000 })).data,
    );
    expect(page.services.map((s) => s.service_id)).toContain(known.service_id);
    await refusedRequest(READER_IDENTITY, Subjects.registrySnapshot, { limit: 5000 });
    // Nor can it listen in on the replies another identity gets.
    const reader = await connectAs(READER_IDENTITY);
    reader.subscribe('_INBOX.mdns-announcer.>');
    await reader.flush();
    await waitFor('a subscription violation', () => reader.errors.includes('PERMISSIONS_VIOLATION'));
    expect(nats.output).toContain(`Subscription Violation - User "${READER_IDENTITY}", Subject "_INBOX.mdns-announcer.>"`);
  });

  it('catalog events and another app’s membership: only registry-api publishes service events, only its own app joins a membership', async () => {
    const fake = { v: 1, type: 'service.deregistered', timestamp: new Date().toISOString() };
    await refusedPublish('health-prober', Subjects.serviceDeregistered, fake);
    await refusedPublish(READER_IDENTITY, Subjects.serviceRegistered, fake);
    await refusedPublish('ttl-reaper', 'beacon.members.health-prober', { v: 1 });
    await refusedPublish('node-role-elector', Subjects.serviceExpired, fake);
  });

  it('the election lease: node-role-elector’s identity writes it; registry-api’s and beacon-reader’s are refused', async () => {
    const leaseSubject = `$KV.${ELECTION_BUCKET}.${SERVER_LEASE_KEY}`;
    const streamInfo = `$JS.API.STREAM.INFO.KV_${ELECTION_BUCKET}`;
    const elector = await connectAs('node-role-elector');
    const lastSeq = async (): Promise<number> =>
      decode<{ state: { last_seq: number } }>((await elector.request(streamInfo, encode({}), { timeout: 5000 })).data).state.last_seq;
    const forged = { node_id: 'intruder', host: '203.0.113.66', port: 8097 };

    const before = await lastSeq();
    const ack = decode<{ stream: string; seq: number }>((await elector.request(leaseSubject, encode(forged), { timeout: 5000 })).data);
    expect(ack.stream).toBe(`KV_${ELECTION_BUCKET}`);
    expect(ack.seq).toBeGreaterThan(before);

    const stored = await lastSeq();
    await refusedRequest('registry-api', leaseSubject, forged);
    await refusedRequest(READER_IDENTITY, leaseSubject, forged);
    await refusedRequest('realtime-gateway', streamInfo, {});
    // The elector itself may have renewed meanwhile; what matters is that no stored value is the forgers'.
    const after = await lastSeq();
    for (let seq = stored + 1; seq <= after; seq++) {
      const message = decode<{ message: { data: string } }>(
        (await elector.request(`$JS.API.STREAM.MSG.GET.KV_${ELECTION_BUCKET}`, encode({ seq }), { timeout: 5000 })).data,
      );
      expect(Buffer.from(message.message.data, 'base64').toString()).not.toContain('intruder');
    }
  });
});

describe('a responder answers only on inboxes', () => {
  it("a request naming the stream's purge or the lease as its reply subject is neither handled nor answered", async () => {
    // nats-server lets a responder publish once to any reply subject a request names, even one
    // its permissions deny: registry-api answering on these would purge BEACON_EVENTS for
    // ttl-reaper's identity, or write a catalog page into the election lease.
    const reaper = await connectAs('ttl-reaper');
    const elector = await connectAs('node-role-elector');
    const info = async (stream: string): Promise<{ messages: number; last_seq: number }> =>
      decode<{ state: { messages: number; last_seq: number } }>(
        (await elector.request(`$JS.API.STREAM.INFO.${stream}`, encode({}), { timeout: 5000 })).data,
      ).state;
    await registry.register({ name: 'perm-kept', host: '192.0.2.9', port: 80 });
    const events = await info('BEACON_EVENTS');
    expect(events.messages).toBeGreaterThan(0);
    const lease = await info(`KV_${ELECTION_BUCKET}`);

    // The request itself is the reaper's to make: with an inbox for its reply, it is answered.
    const answered = decode<{ services: unknown[] }>(
      (await reaper.request(Subjects.registrySnapshot, encode({ limit: 1 }), { timeout: 5000 })).data,
    );
    expect(Array.isArray(answered.services)).toBe(true);
    for (const reply of ['$JS.API.STREAM.PURGE.BEACON_EVENTS', `$KV.${ELECTION_BUCKET}.${SERVER_LEASE_KEY}`]) {
      reaper.publish(Subjects.registrySnapshot, encode({ limit: 1 }), { reply });
    }
    await reaper.flush();
    const refusals = async (): Promise<number> => {
      const text = await (await fetch(`${registry.api.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((row) => row.startsWith('beacon_nats_messages_dropped_total') && row.includes('bad_reply_subject'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    await waitFor('registry-api refusing both reply subjects', async () => (await refusals()) >= 2);
    expect((await info('BEACON_EVENTS')).messages).toBeGreaterThanOrEqual(events.messages);
    const leaseAfter = await info(`KV_${ELECTION_BUCKET}`);
    for (let seq = lease.last_seq + 1; seq <= leaseAfter.last_seq; seq++) {
      const message = decode<{ message: { data: string } }>(
        (await elector.request(`$JS.API.STREAM.MSG.GET.KV_${ELECTION_BUCKET}`, encode({ seq }), { timeout: 5000 })).data,
      );
      expect(Buffer.from(message.message.data, 'base64').toString()).not.toContain('services');
    }
  });
});

describe('an app whose credentials are wrong stops with a message naming them', () => {
  /** Runs ttl-reaper as `ttl-reaper` with `env` on top, and returns its exit code and what it wrote. */
  const run = (env: Record<string, string>): Promise<{ code: number | null; output: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', 'ttl-reaper', 'dist', 'main.js')], {
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', HTTP_PORT: '0', ...as('ttl-reaper'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });

  it('a wrong password: Authorization Violation, naming NATS_USER; a missing file: says which', async () => {
    const wrong = join(nats.identities?.['ttl-reaper'].NATS_PASSWORD_FILE ?? '', '..', 'wrong.password');
    writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    const refused = await run({ NATS_PASSWORD_FILE: wrong });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`refused NATS_USER=ttl-reaper (password from NATS_PASSWORD_FILE=${wrong})`);
    expect(refused.output).toContain('Authorization Violation');
    const missing = await run({ NATS_PASSWORD_FILE: '/nonexistent/ttl-reaper.password' });
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('NATS_PASSWORD_FILE=/nonexistent/ttl-reaper.password cannot be read (ENOENT)');
  }, 30_000);
});

describe("pnpm events (the README's way to follow events)", () => {
  /** Runs scripts/nats-events.mjs as `identity` until `done` holds for its lines. */
  async function follow(
    args: string[],
    action: () => Promise<void>,
    done: (lines: string[]) => boolean,
    identity: NatsIdentity = READER_IDENTITY,
  ): Promise<string[]> {
    const credentials = nats.identities?.[identity];
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'scripts', 'nats-events.mjs'),
        '--user',
        identity,
        '--password-file',
        credentials?.NATS_PASSWORD_FILE ?? '',
        ...args,
      ],
      { env: { PATH: process.env.PATH ?? '', NATS_URL: nats.url }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const lines = (): string[] => out.split('\n').filter(Boolean);
    try {
      await waitFor(`the follower to start (${err})`, () => err.includes('events: following'));
      await action();
      await waitFor(`matching lines (got: ${out.slice(0, 300)} ${err})`, () => done(lines()));
    } finally {
      child.kill('SIGINT');
    }
    return lines();
  }

  it('follows live events as beacon-reader, and replays the stream as realtime-gateway', async () => {
    let id = '';
    await follow(
      ['beacon.events.service.*'],
      async () => void (id = (await registry.register({ name: 'perm-events', host: '192.0.2.5', port: 80 })).service_id),
      (lines) => lines.some((line) => line.includes(id)),
    );
    const replayed = await follow(
      ['--replay'],
      async () => {},
      (lines) => lines.some((line) => line.includes(id)),
      'realtime-gateway',
    );
    expect(replayed.every((line) => Number.isInteger((JSON.parse(line) as { seq: number }).seq))).toBe(true);
    expect(nats.output).not.toMatch(/Violation - User "realtime-gateway", Subject "\$JS\.API\.STREAM\.(MSG\.GET|INFO)\.BEACON_EVENTS"/);
  });

  it('beacon-reader may make no request at all: JetStream would publish its answer on any reply subject named', async () => {
    // The attack, by an identity that may ask JetStream: its answer lands on the subject chosen as the reply.
    const gateway = await connectAs('realtime-gateway');
    const landed = gateway.subscribe(Subjects.serviceRegistered, { max: 1 });
    const heardRedirect = (async () => {
      for await (const message of landed) return new TextDecoder().decode(message.data);
      return '';
    })();
    const watcher = await connectAs(READER_IDENTITY);
    const seen: string[] = [];
    watcher.subscribe(Subjects.serviceRegistered, { callback: (_error, message) => seen.push(new TextDecoder().decode(message.data)) });
    await watcher.flush();
    gateway.publish('$JS.API.STREAM.INFO.BEACON_EVENTS', encode({}), { reply: Subjects.serviceRegistered });
    await gateway.flush();
    expect(await heardRedirect).toContain('stream_info_response');
    // beacon-reader, the identity handed to outside subscribers, cannot even ask.
    await refusedRequest(READER_IDENTITY, '$JS.API.STREAM.INFO.BEACON_EVENTS', {});
    await refusedRequest(READER_IDENTITY, '$JS.API.STREAM.MSG.GET.BEACON_EVENTS', { seq: 1 });
  });
});
