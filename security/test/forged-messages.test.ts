import {
  EVENTS_STREAM,
  STREAM_SUBJECTS,
  Subjects,
  eventTypeOf,
  membersSubject,
  type EventPayloadSubject,
  type Service,
} from '@beacon/contracts';
import {
  SseClient,
  WsClient,
  fetchJson,
  probeResult,
  publishProbeResult,
  requestJson,
  startApp,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13, item 2: one forged message once deafened realtime-gateway for good (a stored
 * event whose `service.tags` was not a list stopped its JetStream feed; a bad core
 * `renewed` killed its NATS reader) while `/ready` stayed 200. Here every app runs as a
 * real process on a real nats-server, and malformed messages go to every subject each
 * one consumes, core and stored. Each app must count them in
 * `beacon_nats_messages_dropped_total`, and keep doing its job: shown by real work done
 * after the flood (an event reaching fresh clients, an expiry, a check result applied,
 * requests answered).
 *
 * The server here is not permissioned: NATS permissions (item 1) decide who may publish
 * at all; this suite is about what happens when a bad message gets through anyway (a
 * buggy or compromised publisher that holds a legitimate identity).
 */

let registry: RegistryFixture;
let raw: NatsConnection;
let gateway: AppProcess;
let reaper: AppProcess;
let prober: AppProcess;
let announcer: AppProcess | null = null;
let elector: AppProcess;
/** A full record as registry-api publishes it: the base every forged service event mutates. */
let model: Service;

const SERVICE_SUBJECTS = Object.values(Subjects).filter((subject) => subject.startsWith('beacon.events.service.')) as EventPayloadSubject[];
const STORED_SERVICE_SUBJECTS = STREAM_SUBJECTS.filter((subject) => subject.startsWith('beacon.events.service.'));
const encoder = new TextEncoder();
const HUGE = 'x'.repeat(900_000);

function serviceEvent(subject: EventPayloadSubject, service: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    type: eventTypeOf(subject),
    timestamp: new Date().toISOString(),
    revision: 1e12,
    service,
    reason: 'deregistered',
    previous_health: 'unknown',
    load: 0.9,
    threshold: 0.8,
    ...extra,
  };
}

/** Malformed versions of a service event on `subject`, as bytes: not JSON, wrong kinds, fields missing, huge, wrong `v`. */
function forgedServiceEvents(subject: EventPayloadSubject): Uint8Array[] {
  const { tags: _tags, ...noTags } = model;
  const { name: _name, ...noName } = model;
  const documents: unknown[] = [
    null,
    [],
    'a string',
    42,
    serviceEvent(subject, { ...model, tags: 'kitchen' }), // the one that threw in the gateway's filters
    serviceEvent(subject, { ...model, tags: 7 }),
    serviceEvent(subject, noTags),
    serviceEvent(subject, noName),
    serviceEvent(subject, { ...model, metadata: { room: ['kitchen'] } }),
    serviceEvent(subject, { ...model, expires_at: 'tomorrow' }),
    serviceEvent(subject, { ...model, port: '80' }),
    serviceEvent(subject, model, { v: 2 }),
    serviceEvent(subject, model, { revision: '5' }),
    serviceEvent(subject, model, { type: 'service.unheard_of' }),
    serviceEvent(subject, HUGE),
    serviceEvent(subject, { ...model, service_id: { $ne: null } }),
    JSON.parse('{"__proto__": {"polluted": true}}'),
  ];
  return [
    encoder.encode('{not json'),
    encoder.encode('['.repeat(50_000)),
    ...documents.map((document) => encoder.encode(JSON.stringify(document))),
  ];
}

function forgedRoleEvents(): Uint8Array[] {
  const node = { node_id: 'forged', role: 'server', server_host: '10.0.0.1', server_port: 8097, fencing_token: 1 };
  const event = { v: 1, type: 'node.role_changed', timestamp: new Date().toISOString(), node };
  return [
    encoder.encode('not json'),
    ...[
      { ...event, node: { ...node, role: 'king' } },
      { ...event, node: 'forged' },
      { ...event, node: { ...node, server_port: '8097' } },
      { ...event, v: 0 },
      { ...event, node: { ...node, node_id: HUGE.slice(0, 100), fencing_token: 'x' } },
    ].map((document) => encoder.encode(JSON.stringify(document))),
  ];
}

function forgedProbeResults(service: Service): Uint8Array[] {
  const result = probeResult(service);
  return [
    encoder.encode(''),
    encoder.encode('{"result": '),
    ...[
      { result: null },
      { result: { ...result, service_id: 'not-a-uuid' } },
      { result: { ...result, health: 'splendid' } },
      { result: { ...result, load: 5 } },
      { result: { ...result, error: HUGE } },
      { result: { ...result, checked_at: 'now' } },
      { result: { ...result, extra: true } },
      { results: [result] },
    ].map((document) => encoder.encode(JSON.stringify(document))),
  ];
}

function forgedAnnouncements(app: string): Uint8Array[] {
  const announcement = { v: 1, app, member_id: 'forged', interval_ms: 1000, leaving: false, timestamp: new Date().toISOString() };
  return [
    encoder.encode('}{'),
    ...[
      { ...announcement, interval_ms: 1e12 }, // would pin a ghost member for ages
      { ...announcement, interval_ms: -1 },
      { ...announcement, member_id: 42 },
      { ...announcement, member_id: '' },
      { ...announcement, leaving: 'yes' },
      { ...announcement, v: 2 },
    ].map((document) => encoder.encode(JSON.stringify(document))),
  ];
}

/** A counter's value in an app's /metrics (0 when the series is absent), summed over the series matching `labels`. */
async function counter(app: AppProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Waits until the app has counted `expected` drops on `subject` (the label it subscribed with), and checks it counted no more. */
async function expectDrops(app: AppProcess, subject: string, expected: number): Promise<void> {
  await waitFor(
    `${app.name} counting ${expected} drops on ${subject}`,
    async () => (await counter(app, 'beacon_nats_messages_dropped_total', { subject })) >= expected,
  );
  expect(await counter(app, 'beacon_nats_messages_dropped_total', { subject }), `${app.name} ${subject}`).toBe(expected);
}

const readiness = async (app: AppProcess): Promise<{ status: number; checks: Record<string, boolean> }> => {
  const response = await fetch(`${app.url}/ready`);
  return { status: response.status, checks: ((await response.json()) as { checks: Record<string, boolean> }).checks };
};

beforeAll(async () => {
  registry = await startRegistry({ env: { BEACON_REGISTRATIONS_PER_SECOND: '0' } });
  const env = { NATS_URL: registry.nats.url };
  raw = await connect({ servers: registry.nats.url });
  const started = await Promise.all([
    startApp('realtime-gateway', { env, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('ttl-reaper', { env, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('health-prober', { env, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('node-role-elector', {
      env: { ...env, NODE_ID: 'forge-test', DISCOVERY_BACKEND: 'nats' },
      portVariable: 'ELECTOR_PORT',
      readyPath: '/ready',
    }),
  ]);
  [gateway, reaper, prober, elector] = started;
  // mDNS needs a multicast-capable interface; where there is none the announcer is left out, with a warning.
  const announcing = startApp('mdns-announcer', { env, portVariable: 'HTTP_PORT', readyPath: '/ready', timeoutMs: 15_000 });
  announcer = await announcing.catch((error: unknown) => {
    console.warn(`mdns-announcer left out (no multicast interface here?): ${String(error).slice(0, 200)}`);
    return null;
  });
  model = await registry.register({ name: uniqueName('model'), host: '10.20.0.1', tags: ['kitchen'] });
});

afterAll(async () => {
  for (const app of [announcer, elector, prober, reaper, gateway]) await app?.stop();
  await raw?.close();
  await registry?.dispose();
});

describe('forged and malformed messages on every subject an app consumes', () => {
  it('are counted and skipped; every app keeps doing its job', async () => {
    // Watchers from before the flood: one with a tag filter (where tags.includes threw), one for expiries.
    const tagged = await WsClient.connect(
      `ws://127.0.0.1:${gateway.port}/api/v1/ws?tags=kitchen&events=service_registered,service_heartbeat`,
    );
    const expiries = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws?events=service_expired`);
    // Due to expire while the flood goes on: the reaper must still expire it.
    const mortal = await registry.register({ name: uniqueName('mortal'), host: '10.20.0.2', ttl: 10 });
    const checked = await registry.register({
      name: uniqueName('checked'),
      host: '10.20.0.3',
      health_check_url: 'http://10.20.0.3:9/health',
      health_check_interval: 3600,
      health_check_timeout: 1,
      health_check_retries: 5,
    });

    let serviceForgeries = 0;
    // A core publish on a stored subject is stored too: the gateway's feed reads those as well.
    let storedForgeries = 0;
    for (const subject of SERVICE_SUBJECTS) {
      for (const bytes of forgedServiceEvents(subject)) raw.publish(subject, bytes);
      serviceForgeries += forgedServiceEvents(subject).length;
      if ((STORED_SERVICE_SUBJECTS as string[]).includes(subject)) storedForgeries += forgedServiceEvents(subject).length;
    }
    const renewedForgeries = forgedServiceEvents(Subjects.serviceRenewed).length;
    // Stored ones: into BEACON_EVENTS, which the gateway reads (core subscribers hear them too).
    const js = raw.jetstream();
    for (const subject of STORED_SERVICE_SUBJECTS) {
      for (const bytes of forgedServiceEvents(subject)) await js.publish(subject, bytes);
      serviceForgeries += forgedServiceEvents(subject).length;
      storedForgeries += forgedServiceEvents(subject).length;
    }
    for (const bytes of forgedRoleEvents()) await js.publish(Subjects.nodeRoleChanged, bytes);
    storedForgeries += forgedRoleEvents().length;
    const probeForgeries = forgedProbeResults(checked);
    for (const bytes of probeForgeries) raw.publish(Subjects.probeResult, bytes);
    for (const app of ['ttl-reaper', 'health-prober'])
      for (const bytes of forgedAnnouncements(app)) raw.publish(membersSubject(app), bytes);
    await raw.flush();

    // Requests with bad bodies are answered with an error document, never silence.
    const badRequests: [string, string | Record<string, unknown>][] = [
      [Subjects.registrySnapshot, { limit: 'all' }],
      [Subjects.registrySnapshot, { after: { $gt: '' } }],
      [Subjects.registryExpire, { service_id: 'x' }],
      [Subjects.registryExpire, {}],
      [Subjects.registrySweep, { now: 'tomorrow' }],
      [Subjects.registryPurge, { older_than: { valueOf: 1 } }],
      [Subjects.registryPurge, { older_than: HUGE }],
      [Subjects.proberCheck, { service_id: 5 }],
      [Subjects.proberCheck, { service_id: checked.service_id, publish: 'yes' }],
    ];
    for (const [subject, body] of badRequests) {
      const reply = await requestJson<{ error?: { code: string } }>(raw, subject, body);
      expect(reply.error?.code, `${subject} ${JSON.stringify(body).slice(0, 60)}`).toBe('bad_request');
    }
    for (const subject of [Subjects.registrySnapshot, Subjects.proberCheck]) {
      const reply = await raw.request(subject, encoder.encode('{not json'), { timeout: 5000 });
      expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ error: { code: 'bad_request' } });
    }

    // Every forgery counted, by every consumer that reads its subject. registry-api only
    // tallies service events for /stats (NatsService.tally): it never reads them.
    const family = 'beacon.events.service.*';
    for (const app of [gateway, reaper, prober, ...(announcer ? [announcer] : [])]) await expectDrops(app, family, serviceForgeries);
    await expectDrops(gateway, Subjects.serviceRenewed, renewedForgeries);
    await expectDrops(gateway, 'BEACON_EVENTS', storedForgeries);
    await expectDrops(registry.api, Subjects.probeResult, probeForgeries.length);
    await expectDrops(reaper, membersSubject('ttl-reaper'), forgedAnnouncements('ttl-reaper').length);
    await expectDrops(prober, membersSubject('health-prober'), forgedAnnouncements('health-prober').length);

    // The gateway still fans out, stored and core events alike, to old and fresh clients.
    const fresh = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws?tags=kitchen`);
    const sse = await SseClient.connect(`http://127.0.0.1:${gateway.port}/api/v1/events?tags=kitchen`);
    const after = await registry.register({ name: uniqueName('after'), host: '10.20.0.4', tags: ['kitchen'] });
    for (const client of [tagged, fresh]) await client.waitForEvents(1, (m) => m.data?.service_id === after.service_id);
    await waitFor('the SSE client', () => sse.events.some((e) => e.data.data?.service_id === after.service_id));
    await fetchJson('PUT', `${registry.base}/services/${after.service_id}/heartbeat`);
    await tagged.waitForEvents(1, (m) => m.type === 'service_heartbeat' && m.data?.service_id === after.service_id);

    // registry-api still applies a real check result.
    publishProbeResult(raw, probeResult(checked));
    await waitFor('the real result applied', async () => {
      const service = await fetchJson<Service>('GET', `${registry.base}/services/${checked.service_id}`);
      return service.body.health === 'healthy';
    });

    // The prober, the elector and the announcer still answer.
    const check = await requestJson<{ service_id?: string }>(
      raw,
      Subjects.proberCheck,
      { service_id: checked.service_id, publish: false },
      10_000,
    );
    expect(check.service_id).toBe(checked.service_id);
    // The same through registry-api, which holds the prober's reply to its contract.
    const onDemand = await fetchJson<{ service_id?: string }>('POST', `${registry.base}/services/${checked.service_id}/health-check`);
    expect(onDemand.status).toBe(200);
    expect(await requestJson(raw, Subjects.electorStatus, {})).toMatchObject({ node_id: 'forge-test' });
    if (announcer) expect(await requestJson(raw, Subjects.mdnsStatus, 'garbage')).toMatchObject({ running: true });

    // The reaper still expires, on time (ttl 10 s), and the gateway tells about it.
    await expiries.waitForEvents(1, (m) => m.data?.service_id === mortal.service_id, 20_000);

    for (const app of [gateway, reaper, prober, elector, registry.api, ...(announcer ? [announcer] : [])]) {
      expect((await readiness(app)).status, app.name).toBe(200);
    }
    for (const client of [tagged, expiries, fresh]) client.close();
    sse.close();
  }, 90_000);
});

describe('/ready', () => {
  it("names what each app depends on, the sharing apps' membership included", async () => {
    for (const app of [reaper, prober])
      expect((await readiness(app)).checks, app.name).toMatchObject({ nats: true, catalog_view: true, membership: true });
    expect((await readiness(gateway)).checks).toMatchObject({ nats: true, event_feed: true });
  });

  it('turns 503 on the gateway while its event stream is gone, and 200 once the feed follows it again', async () => {
    const jsm = await raw.jetstreamManager();
    const { config } = await jsm.streams.info(EVENTS_STREAM);
    await jsm.streams.delete(EVENTS_STREAM);
    const down = await waitFor('the gateway not ready', async () => {
      const answer = await readiness(gateway);
      return answer.status === 503 ? answer : undefined;
    });
    expect(down.checks).toMatchObject({ nats: true, event_feed: false });
    // What `nats stream add` with registry-api's settings does (registry-api creates it only at its start).
    await jsm.streams.add(config);
    await waitFor('the gateway ready again', async () => (await readiness(gateway)).status === 200, 20_000);
    const watcher = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws`);
    const back = await registry.register({ name: uniqueName('restream'), host: '10.20.0.6' });
    await watcher.waitForEvents(1, (m) => m.data?.service_id === back.service_id, 15_000);
    watcher.close();
  }, 60_000);

  it('after the stream is recreated at once, shorter than where it stood, closes its clients (1012) and serves new ones', async () => {
    // nats.js's ordered consumer may follow the new stream from the old position, reporting
    // no trouble: the gateway then waited for positions the new stream had not reached.
    for (let i = 0; i < 5; i++) await registry.register({ name: uniqueName('before-recreate'), host: '10.20.0.7' });
    const before = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws`);
    const jsm = await raw.jetstreamManager();
    const { config } = await jsm.streams.info(EVENTS_STREAM);
    await jsm.streams.delete(EVENTS_STREAM);
    await jsm.streams.add(config);
    const early = await registry.register({ name: uniqueName('early-after-recreate'), host: '10.20.0.8' });
    await waitFor('the client told to start over', () => before.closed ?? undefined, 20_000);
    expect(before.closed).toMatchObject({ code: 1012 });
    // A new client starts from the new stream: its replay holds what came after the recreation.
    const again = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws?since=0`);
    try {
      await again.waitForEvents(1, (m) => m.data?.service_id === early.service_id, 15_000);
      const later = await registry.register({ name: uniqueName('later-after-recreate'), host: '10.20.0.9' });
      await again.waitForEvents(1, (m) => m.data?.service_id === later.service_id, 15_000);
    } finally {
      again.close();
    }
  }, 60_000);

  it('turns 503 while NATS is down, naming the check, and 200 again once it is back; the gateway then serves new events', async () => {
    const apps = [gateway, reaper, prober, elector, registry.api, ...(announcer ? [announcer] : [])];
    await registry.nats.stop();
    for (const app of apps) {
      const down = await waitFor(`${app.name} not ready`, async () => {
        const answer = await readiness(app);
        return answer.status === 503 ? answer : undefined;
      });
      expect(down.checks.nats, app.name).toBe(false);
    }
    await registry.nats.start();
    for (const app of apps) await waitFor(`${app.name} ready again`, async () => (await readiness(app)).status === 200, 20_000);

    const watcher = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws`);
    const back = await registry.register({ name: uniqueName('back'), host: '10.20.0.5' });
    await watcher.waitForEvents(1, (m) => m.data?.service_id === back.service_id, 15_000);
    watcher.close();
  }, 60_000);
});
