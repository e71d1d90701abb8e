import {
  HEALTH_STATES,
  PROBE_OUTCOMES,
  Subjects,
  eventTypeOf,
  membersSubject,
  payloadCheckFor,
  type EventPayloadSubject,
  type Service,
} from '@beacon/contracts';
import {
  WsClient,
  fetchJson,
  startApp,
  startNatsServer,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import fc from 'fast-check';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WRONG_KIND,
  hostileJsonBytes,
  instant,
  lanAddress,
  mutants,
  orNull,
  port,
  serviceRecord,
  uuid,
  withField,
  word,
  type Doc,
} from './support/arbitraries';

/**
 * Issue 13: "nothing any client sends can take a part down", behind the REST edge. Real
 * apps on a real (plain, unauthenticated: this is about validation, not permissions)
 * nats-server get generated payloads on every subject they consume, and generated
 * requests on every request subject. Every request is answered (an error document for a
 * bad one, never silence), no process dies, each app counts what it dropped, and
 * afterwards every consumer still does its job: a registration reaches a WebSocket
 * client, the reaper expires a short-TTL service, registry-api applies a probe result.
 */

const encoder = new TextEncoder();
const utf8 = (text: string): Uint8Array => encoder.encode(text);
const json = (document: unknown): Uint8Array => utf8(JSON.stringify(document));

const record = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T): fc.Arbitrary<Doc> =>
  fc.record(fields, { noNullPrototype: true, requiredKeys: Object.keys(fields) });

const envelope = (subject: EventPayloadSubject) => ({ v: fc.constant(1), type: fc.constant(eventTypeOf(subject)), timestamp: instant });

const SERVICE_EXTRAS: Partial<Record<EventPayloadSubject, Record<string, fc.Arbitrary<unknown>>>> = {
  [Subjects.serviceDeregistered]: { reason: fc.constantFrom('deregistered', 'purged', 'superseded') },
  [Subjects.serviceHealthChanged]: { previous_health: fc.constantFrom(...HEALTH_STATES) },
  [Subjects.serviceCriticalLoad]: {
    load: fc.double({ min: 0, max: 1, noNaN: true }),
    threshold: fc.double({ min: 0, max: 1, noNaN: true }),
  },
};

const SERVICE_SUBJECTS = Object.values(Subjects).filter((subject) => subject.startsWith('beacon.events.service.')) as EventPayloadSubject[];

const probeResult = record({
  service_id: uuid,
  kind: fc.constantFrom('http', 'tcp'),
  target: lanAddress.map((address) => `http://${address}:1/health`),
  ok: fc.boolean(),
  health: fc.constantFrom(...HEALTH_STATES),
  outcome: fc.constantFrom(...PROBE_OUTCOMES),
  status_code: orNull(fc.integer({ min: 100, max: 599 })),
  response_time_ms: fc.double({ min: 0, max: 1e4, noNaN: true }),
  load: orNull(fc.double({ min: 0, max: 1, noNaN: true })),
  error: orNull(fc.string({ maxLength: 50 })),
  checked_at: instant,
  prober_id: word(20),
});

/** The members this suite pretends to be; each says it is leaving at the end, so no real replica keeps sharing work with it. */
const FORGED_MEMBERS = ['fz-member-1', 'fz-member-2'];
const MEMBER_APPS = ['health-prober', 'ttl-reaper'];

/** What Beacon itself publishes on each consumed subject, well-formed. */
const WELL_FORMED: { subject: string; valid: fc.Arbitrary<Doc> }[] = [
  ...SERVICE_SUBJECTS.map((subject) => ({
    subject,
    valid: record({ ...envelope(subject), revision: fc.nat(), service: serviceRecord, ...SERVICE_EXTRAS[subject] }),
  })),
  { subject: Subjects.probeResult, valid: record({ ...envelope(Subjects.probeResult), result: probeResult }) },
  {
    subject: Subjects.nodeRoleChanged,
    valid: record({
      ...envelope(Subjects.nodeRoleChanged),
      node: record({
        node_id: word(20),
        role: fc.constantFrom('server', 'agent'),
        server_host: orNull(lanAddress),
        server_port: orNull(port),
        fencing_token: orNull(fc.nat()),
      }),
    }),
  },
  ...MEMBER_APPS.map((app) => ({
    subject: membersSubject(app),
    valid: record({
      v: fc.constant(1),
      app: fc.constant(app),
      member_id: fc.constantFrom(...FORGED_MEMBERS),
      interval_ms: fc.integer({ min: 1_000, max: 60_000 }),
      leaving: fc.constant(true),
      timestamp: instant,
    }),
  })),
];

/** The record inside each kind of event, whose fields consumers read. */
const INNER = ['service', 'result', 'node'];

/** One field of the record inside an event (`service.tags`, `result.target`, ...) replaced by a hostile value. */
function innerMutants(valid: fc.Arbitrary<Doc>): fc.Arbitrary<Doc> {
  return valid.chain((document) => {
    const inner = INNER.find((key) => typeof document[key] === 'object' && document[key] !== null);
    if (inner === undefined) return fc.constant(document);
    return mutants(fc.constant(document[inner] as Doc)).map((record) => withField(document, inner, record));
  });
}

/** A payload for `subject`: a near-valid mutant, a forged well-formed one, any JSON, or bytes that are not JSON at all. */
function payloadFor(subject: string, valid: fc.Arbitrary<Doc>): fc.Arbitrary<Uint8Array> {
  const documents = fc.oneof(
    { weight: 3, arbitrary: mutants(valid) },
    { weight: 4, arbitrary: innerMutants(valid) },
    { weight: 1, arbitrary: valid },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  );
  const safe = documents.map((document) => {
    // A forged member that is not leaving would take a share of a real replica's work for minutes: not what this tests.
    const joins = subject.startsWith('beacon.members.') && payloadCheckFor(subject as never)(document, subject) === null;
    return json(joins ? { ...(document as Doc), leaving: true } : document);
  });
  return fc.oneof({ weight: 8, arbitrary: safe }, { weight: 3, arbitrary: hostileJsonBytes });
}

interface RequestContract {
  subject: string;
  valid: fc.Arbitrary<Doc>;
  /** Fields its contract class validates: each refused by name when of the wrong kind. */
  fields: string[];
  /** A well-formed request is served (no error document); false where a made-up id is rightly not found. */
  servesValid: boolean;
}

const REQUESTS: RequestContract[] = [
  {
    subject: Subjects.registrySnapshot,
    valid: fc.record({ limit: fc.integer({ min: 1, max: 5000 }) }, { requiredKeys: [], noNullPrototype: true }),
    fields: ['after', 'limit'],
    servesValid: true,
  },
  {
    subject: Subjects.registryExpire,
    valid: record({ service_id: uuid, expires_at: instant }),
    fields: ['service_id', 'expires_at'],
    servesValid: false,
  },
  {
    subject: Subjects.registrySweep,
    valid: fc.record({ now: instant }, { requiredKeys: [], noNullPrototype: true }),
    fields: ['now'],
    servesValid: true,
  },
  {
    // Cutoffs in the past only: a future one would delete active services (issue 13's finding 1, another test's subject).
    subject: Subjects.registryPurge,
    valid: record({
      older_than: fc
        .date({ min: new Date('2000-01-01'), max: new Date('2020-01-01'), noInvalidDate: true })
        .map((date) => date.toISOString()),
    }),
    fields: ['older_than'],
    servesValid: true,
  },
  {
    subject: Subjects.proberCheck,
    valid: record({ service_id: uuid, publish: fc.constant(false) }),
    fields: ['service_id', 'publish'],
    servesValid: false,
  },
  { subject: Subjects.electorStatus, valid: fc.constant({}), fields: [], servesValid: true },
  { subject: Subjects.mdnsStatus, valid: fc.constant({}), fields: [], servesValid: true },
];

interface ErrorDocument {
  error?: { code?: unknown; message?: unknown; fields?: { field: string }[] };
}

/** An error document has an `error` object (a probe result's `error` is a string). */
const isErrorReply = (reply: ErrorDocument): boolean => typeof reply.error === 'object' && reply.error !== null;

let nats: NatsServerHandle;
let registry: RegistryFixture;
let apps: AppProcess[];
/** The apps that subscribe to events, so each drops (and counts) malformed ones. */
let consumers: AppProcess[];
let gateway: AppProcess;
let client: NatsConnection;
/** Connected before the fuzzing, with filters that make the gateway read service fields; must still receive afterwards. */
let watchers: WsClient[];

const alive = (app: AppProcess): boolean => app.child.exitCode === null && app.child.signalCode === null;

function expectAllAlive(after: string): void {
  for (const app of apps) {
    if (!alive(app)) throw new Error(`${app.name} exited after ${after}:\n${app.output().slice(-3000)}`);
  }
}

async function ask(subject: string, payload: Uint8Array): Promise<ErrorDocument & Doc> {
  try {
    const reply = await client.request(subject, payload, { timeout: 5_000 });
    return JSON.parse(new TextDecoder().decode(reply.data)) as ErrorDocument & Doc;
  } catch (error) {
    throw new Error(
      `${subject} did not answer ${JSON.stringify(Buffer.from(payload).toString('latin1').slice(0, 300))}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
}

beforeAll(async () => {
  nats = await startNatsServer();
  registry = await startRegistry({ nats, env: { BEACON_RESYNC_INTERVAL: '5' } });
  const common = { NATS_URL: nats.url, BEACON_RESYNC_INTERVAL: '5' };
  const [reaper, prober, started, elector, announcer] = await Promise.all([
    startApp('ttl-reaper', { env: { ...common, BEACON_TTL_CLEANUP_INTERVAL: '2' }, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('health-prober', { env: common, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('realtime-gateway', { env: { ...common, WS_PING_INTERVAL: '3600' }, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('node-role-elector', {
      env: { NATS_URL: nats.url, DISCOVERY_BACKEND: 'nats', NODE_ID: 'fz-node' },
      portVariable: 'ELECTOR_PORT',
      readyPath: '/ready',
    }),
    startApp('mdns-announcer', { env: { ...common, MDNS_HOSTNAME: 'fz-beacon' }, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
  ]);
  gateway = started;
  apps = [registry.api, reaper, prober, gateway, elector, announcer];
  consumers = [registry.api, reaper, prober, gateway, announcer];
  client = await connect({ servers: nats.url });
  const ws = `ws://127.0.0.1:${gateway.port}/api/v1/ws`;
  watchers = await Promise.all([
    WsClient.connect(ws),
    WsClient.connect(`${ws}?tags=fz-a&events=service_registered,service_updated,service_heartbeat,service_deregistered`),
    WsClient.connect(`${ws}?type=fz&name=fz-x&service_id=fz-none,other`),
    WsClient.connect(`${ws}?snapshot=true`),
  ]);
});

afterAll(async () => {
  for (const watcher of watchers ?? []) watcher.close();
  await client?.close();
  for (const app of (apps ?? []).filter((app) => app !== registry.api)) await app.stop();
  await registry?.dispose();
  await nats?.dispose();
});

describe('generated messages on every consumed subject', () => {
  it.each(WELL_FORMED)('$subject: nobody dies', async ({ subject, valid }) => {
    await fc.assert(
      fc.asyncProperty(fc.array(payloadFor(subject, valid), { minLength: 1, maxLength: 10 }), async (payloads) => {
        for (const payload of payloads) client.publish(subject, payload);
        await client.flush();
      }),
      { numRuns: 60 },
    );
    // Let the consumers take the last of them before looking.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expectAllAlive(`messages on ${subject}`);
  });

  it('each forged member leaves again', async () => {
    for (const app of MEMBER_APPS) {
      for (const member of FORGED_MEMBERS) {
        client.publish(
          membersSubject(app),
          json({ v: 1, app, member_id: member, interval_ms: 1000, leaving: true, timestamp: new Date().toISOString() }),
        );
      }
    }
    await client.flush();
    expectAllAlive('the members left');
  });
});

describe('generated requests on every request subject', () => {
  it.each(REQUESTS)('$subject: always answered, never with an internal error', async ({ subject, valid }) => {
    await fc.assert(
      fc.asyncProperty(payloadFor(subject, valid), async (payload) => {
        const reply = await ask(subject, payload);
        if (isErrorReply(reply)) {
          expect(['bad_request', 'not_found'], JSON.stringify(reply)).toContain(reply.error?.code);
          expect(typeof reply.error?.message).toBe('string');
        }
      }),
      { numRuns: 60 },
    );
    expectAllAlive(`requests on ${subject}`);
  });

  it.each(REQUESTS)('$subject: serves a well-formed request and refuses a field of the wrong kind by name', async (contract) => {
    const cases = fc.tuple(
      contract.valid,
      fc.option(fc.constantFrom(...(contract.fields.length > 0 ? contract.fields : ['-'])), { nil: undefined }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([document, field]) => {
        if (field === undefined || contract.fields.length === 0) {
          const reply = await ask(contract.subject, json(document));
          if (contract.servesValid) expect(isErrorReply(reply), JSON.stringify(reply)).toBe(false);
          return;
        }
        const reply = await ask(contract.subject, json(withField(document, field, WRONG_KIND)));
        expect(reply.error?.code, JSON.stringify(reply)).toBe('bad_request');
        expect((reply.error?.fields ?? []).map((error) => error.field)).toContain(field);
      }),
      { numRuns: 20 },
    );
  });
});

describe('after the fuzzing', () => {
  it('every app is alive and ready, and counted what it dropped', async () => {
    expectAllAlive('the fuzzing');
    for (const app of apps) {
      const ready = await fetchJson('GET', `${app.url}${app === registry.api ? '/api/v1/ready' : '/ready'}`);
      expect(ready.status, `${app.name} /ready: ${ready.text}`).toBe(200);
    }
    for (const app of consumers) {
      const metrics = await fetchJson('GET', `${app.url}/metrics`);
      const dropped = metrics.text
        .split('\n')
        .filter((line) => line.startsWith('beacon_nats_messages_dropped_total'))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
      expect(dropped, `${app.name} counted no dropped message`).toBeGreaterThan(0);
    }
  });

  it('answers a well-formed request on every request subject', async () => {
    expect(isErrorReply(await ask(Subjects.registrySnapshot, json({})))).toBe(false);
    expect(isErrorReply(await ask(Subjects.registrySweep, json({})))).toBe(false);
    expect(isErrorReply(await ask(Subjects.electorStatus, json({})))).toBe(false);
    expect(isErrorReply(await ask(Subjects.mdnsStatus, json({})))).toBe(false);
    const service = await registry.register({
      name: uniqueName('fz-checked'),
      host: '10.0.0.7',
      health_check_url: 'http://10.0.0.7:1/health',
      health_check_timeout: 1,
    });
    const known = await waitFor('the prober to know the service', async () => {
      const reply = await ask(Subjects.proberCheck, json({ service_id: service.service_id, publish: false }));
      return isErrorReply(reply) ? undefined : reply;
    });
    expect(known.service_id).toBe(service.service_id);
  });

  it('delivers a registration to every WebSocket client that asked for it, old and new', async () => {
    const fresh = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws`);
    try {
      const service = await registry.register({ name: uniqueName('fz-after'), host: '10.0.0.8', tags: ['fz-a'] });
      const delivered = (watcher: WsClient) => watcher.waitForEvents(1, (message) => message.data?.service_id === service.service_id);
      for (const watcher of [fresh, watchers[0], watchers[1], watchers[3]] as WsClient[]) {
        const [event] = await delivered(watcher);
        expect(event?.type).toBe('service_registered');
      }
    } finally {
      fresh.close();
    }
  });

  it('still expires a short-TTL service (ttl-reaper) and applies a probe result (registry-api)', async () => {
    const expired: string[] = [];
    const subscription = client.subscribe(Subjects.serviceExpired, {
      callback: (_error, message) => {
        try {
          expired.push((JSON.parse(new TextDecoder().decode(message.data)) as { service: Service }).service.service_id);
        } catch {
          // this suite's own garbage
        }
      },
    });
    try {
      const target = 'http://10.0.0.9:1/health';
      const [short, checked] = await Promise.all([
        registry.register({ name: uniqueName('fz-short'), host: '10.0.0.9', ttl: 10 }),
        registry.register({ name: uniqueName('fz-probed'), host: '10.0.0.9', health_check_url: target, health_check_interval: 3600 }),
      ]);
      client.publish(
        Subjects.probeResult,
        json({
          v: 1,
          type: 'probe.result',
          timestamp: new Date().toISOString(),
          result: {
            service_id: checked.service_id,
            kind: 'http',
            target,
            ok: true,
            health: 'healthy',
            outcome: 'healthy',
            status_code: 200,
            response_time_ms: 3,
            load: 0.1,
            error: null,
            checked_at: new Date().toISOString(),
            prober_id: 'fz-prober',
          },
        }),
      );
      await waitFor('the probe result applied', async () => {
        const history = await fetchJson<{ total: number }>('GET', `${registry.base}/services/${checked.service_id}/health-checks`);
        return history.body.total > 0;
      });
      await waitFor('the reaper to expire the short-TTL service', () => expired.includes(short.service_id), 20_000);
    } finally {
      subscription.unsubscribe();
    }
    expectAllAlive('the checks after the fuzzing');
  }, 40_000);
});
