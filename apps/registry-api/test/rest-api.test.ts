import { randomUUID } from 'node:crypto';
import { startRegistry, waitFor, type RegistryFixture } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  ISO_UTC,
  expectError,
  ids,
  ms,
  prng,
  randomJson,
  type HttpResult,
  type WireDiscover,
  type WireHeartbeat,
  type WireService,
} from './rest-helpers';

/**
 * The REST contract of seed 000 (docs/compatibility.md) against the real registry-api process,
 * a real nats-server and a real SQLite file. Tests share one catalog, so every test uses
 * names, types and tags unique to this run and registers the services it counts.
 */

const RUN = randomUUID().slice(0, 8);
let counter = 0;
const unique = (prefix: string): string => `${prefix}-${RUN}-${++counter}`;

const SERVICES = '/api/v1/services';

let main: RegistryFixture;
let api: Client;
/** BEACON_AUTH_TOKEN=tok1,tok2 */
let authApp: RegistryFixture;
/** BEACON_AUTH_TOKEN=tok1 and BEACON_AUTH_READS=true */
let readsApp: RegistryFixture;
/** SERVICE_DISCOVERY_SECRET=s3 (seed 004's name for the token) */
let aliasApp: RegistryFixture;

/** Registered with the minimum TTL at the very start, so they have expired by the time the expiry test runs. */
const EXPIRING_TYPE = unique('expiring');
let expiring: WireService[] = [];

beforeAll(async () => {
  main = await startRegistry();
  api = new Client(main.api.url);
  // The expiry clock starts now; the auth processes start meanwhile.
  expiring = await Promise.all(
    [1, 2, 3].map((i) => api.register({ name: unique('exp'), type: EXPIRING_TYPE, host: '10.9.0.1', port: 7000 + i, ttl: 10 })),
  );
  [authApp, readsApp, aliasApp] = await Promise.all([
    startRegistry({ nats: main.nats, env: { BEACON_AUTH_TOKEN: 'tok1,tok2', CORS_ORIGINS: '*' } }),
    startRegistry({ nats: main.nats, env: { BEACON_AUTH_TOKEN: 'tok1', BEACON_AUTH_READS: 'true' } }),
    startRegistry({ nats: main.nats, env: { SERVICE_DISCOVERY_SECRET: 's3' } }),
  ]);
});

afterAll(async () => {
  // The main fixture owns the nats-server the others share: it goes last.
  await Promise.all([authApp, readsApp, aliasApp].filter((fixture) => fixture !== undefined).map((fixture) => fixture.dispose()));
  await main?.dispose();
});

/** Seed 000's registration example, verbatim. */
const SEED_EXAMPLE = {
  name: 'homegrow-client',
  type: 'iot',
  host: '192.168.1.100',
  port: 8080,
  protocol: 'http',
  tags: ['iot', 'agriculture', 'sensors'],
  metadata: { version: '1.0.0', description: 'HomegrowClient for plant monitoring' },
  ttl: 300,
  health_check_url: 'http://192.168.1.100:8080/health',
  health_check_interval: 60,
};

/** Every field the original Beacon's service object has. */
const SHAPE_FIELDS = [
  'service_id',
  'name',
  'type',
  'host',
  'port',
  'protocol',
  'tags',
  'metadata',
  'status',
  'ttl',
  'expires_at',
  'last_heartbeat',
  'created_at',
  'updated_at',
  'health_check_url',
  'health_check_interval',
  'health_check_timeout',
  'health_check_retries',
  'last_health_check',
  'consecutive_health_failures',
  'mdns_service_type',
] as const;

describe('POST /services/register', () => {
  it('stores seed 000’s example and answers 201 with the full service object', async () => {
    const before = Date.now();
    const result = await api.call('POST', `${SERVICES}/register`, { json: SEED_EXAMPLE });
    expect(result.status, result.text).toBe(201);
    const service = result.body as WireService;
    for (const field of SHAPE_FIELDS) expect(service, `missing ${field}`).toHaveProperty(field);
    expect(service.service_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(service).toMatchObject({
      name: 'homegrow-client',
      type: 'iot',
      host: '192.168.1.100',
      port: 8080,
      protocol: 'http',
      tags: ['iot', 'agriculture', 'sensors'],
      metadata: { version: '1.0.0', description: 'HomegrowClient for plant monitoring' },
      status: 'active',
      ttl: 300,
      health_check_url: 'http://192.168.1.100:8080/health',
      health_check_interval: 60,
      health_check_timeout: 5,
      health_check_retries: 3,
      last_health_check: null,
      consecutive_health_failures: 0,
      mdns_service_type: '_iot._tcp',
      version: '1.0.0',
      health: 'unknown',
    });
    expect(Number.isInteger(service.revision) && service.revision > 0).toBe(true);
    const heartbeat = ms(service.last_heartbeat);
    expect(heartbeat).toBeGreaterThanOrEqual(before - 1000);
    expect(heartbeat).toBeLessThanOrEqual(Date.now() + 1000);
    expect(ms(service.expires_at) - heartbeat).toBe(300_000);
    expect(ms(service.created_at)).toBe(ms(service.updated_at));
    // The stored record reads back identically.
    expect(await api.getService(service.service_id)).toEqual(service);
  });

  it('fills defaults: type http, protocol http, ttl 300, interval 60, timeout 5, retries 3', async () => {
    const service = await api.register({ name: unique('defaults'), host: 'defaults.local', port: 9000 });
    expect(service).toMatchObject({
      type: 'http',
      protocol: 'http',
      ttl: 300,
      health_check_interval: 60,
      health_check_timeout: 5,
      health_check_retries: 3,
      tags: [],
      metadata: {},
      version: null,
      health_check_url: null,
      status: 'active',
      mdns_service_type: '_http._tcp',
    });
    expect(ms(service.expires_at) - ms(service.last_heartbeat)).toBe(300_000);
  });

  it.each([
    ['mqtt', '_mqtt._tcp'],
    ['http', '_http._tcp'],
    ['https', '_https._tcp'],
    ['iot', '_iot._tcp'],
    ['api', '_http._tcp'],
    ['database', '_db._tcp'],
    ['cache', '_cache._tcp'],
    ['message_queue', '_mq._tcp'],
  ])('maps type %s to mDNS type %s (seed 000 table)', async (type, mdns) => {
    const service = await api.register({ name: unique(`mdns-${type}`), type, host: '10.1.0.1', port: 1883 });
    expect(service.mdns_service_type).toBe(mdns);
  });

  it('derives a valid DNS-SD type for an unmapped service type', async () => {
    const service = await api.register({ name: unique('mdns-free'), type: 'Home Assistant!', host: '10.1.0.2', port: 8123 });
    expect(service.type).toBe('Home Assistant!');
    // RFC 6335 service name (1–15 of a-z0-9-), derived from the type.
    expect(service.mdns_service_type).toMatch(/^_[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?\._tcp$/);
    expect(service.mdns_service_type.startsWith('_home')).toBe(true);
  });

  it('takes version from metadata.version, and an explicit version over it', async () => {
    const fallback = await api.register({ name: unique('ver'), host: '10.1.0.3', port: 1, metadata: { version: '3.2.1' } });
    expect(fallback.version).toBe('3.2.1');
    const explicit = await api.register({ name: unique('ver'), host: '10.1.0.3', port: 2, version: '9.9', metadata: { version: '3.2.1' } });
    expect(explicit.version).toBe('9.9');
  });

  it('accepts integers given as digit strings, as the lax original did', async () => {
    const service = await api.register({
      name: unique('digits'),
      host: '10.1.0.4',
      port: '8080',
      ttl: '120',
      health_check_interval: '30',
      health_check_timeout: '7',
      health_check_retries: '4',
    });
    expect(service).toMatchObject({ port: 8080, ttl: 120, health_check_interval: 30, health_check_timeout: 7, health_check_retries: 4 });
    expect(ms(service.expires_at) - ms(service.last_heartbeat)).toBe(120_000);
  });
});

describe('re-registration', () => {
  it('same (name, host, port) twice: 201 both times, one record, same service_id', async () => {
    const name = unique('again');
    const first = await api.call('POST', `${SERVICES}/register`, { json: { name, host: '10.2.0.1', port: 80, tags: ['a'] } });
    const second = await api.call('POST', `${SERVICES}/register`, { json: { name, host: '10.2.0.1', port: 80, tags: ['b'] } });
    expect(first.status, first.text).toBe(201);
    expect(second.status, second.text).toBe(201);
    const [a, b] = [first.body as WireService, second.body as WireService];
    expect(b.service_id).toBe(a.service_id);
    expect(b.tags).toEqual(['b']);
    expect(b.revision).toBeGreaterThan(a.revision);
    expect(b.created_at).toBe(a.created_at);
    const listed = await api.list(`?name=${name}`);
    expect(listed.total).toBe(1);
    expect(ids(listed.services)).toEqual([a.service_id]);
  });

  it('same (name, instance_id) at a new host/port updates the record in place', async () => {
    const name = unique('inst');
    const first = await api.register({ name, instance_id: 'pod-1', host: '10.2.0.2', port: 81 });
    const moved = await api.register({ name, instance_id: 'pod-1', host: '10.2.0.3', port: 82 });
    expect(moved.service_id).toBe(first.service_id);
    expect(moved).toMatchObject({ host: '10.2.0.3', port: 82, instance_id: 'pod-1' });
    const listed = await api.list(`?name=${name}`);
    expect(listed.total).toBe(1);
    expect(listed.services[0]).toMatchObject({ service_id: first.service_id, host: '10.2.0.3', port: 82 });
  });

  it('a different name at the same host/port is a different service', async () => {
    const a = await api.register({ name: unique('same-ep'), host: '10.2.0.4', port: 83 });
    const b = await api.register({ name: unique('same-ep'), host: '10.2.0.4', port: 83 });
    expect(b.service_id).not.toBe(a.service_id);
    expect((await api.getService(a.service_id)).name).toBe(a.name);
    expect((await api.getService(b.service_id)).name).toBe(b.name);
  });
});

describe('PUT /services/{id}/heartbeat', () => {
  let target: WireService;

  beforeAll(async () => {
    // Long enough that nothing here expires while the rest of the suite runs.
    target = await api.register({ name: unique('hb'), host: '10.3.0.1', port: 90, ttl: 240 });
  });

  it("extends expires_at and answers the original's heartbeat body", async () => {
    // A record of its own: another test's ?ttl= would change the TTL checked below.
    const target = await api.register({ name: unique('hb'), host: '10.3.0.1', port: 91, ttl: 240 });
    // So "later" is measurable at millisecond resolution.
    await waitFor('the clock past the registration', () => Date.now() > ms(target.last_heartbeat) + 1);
    const result = await api.call('PUT', `${SERVICES}/${target.service_id}/heartbeat`);
    expect(result.status, result.text).toBe(200);
    const body = result.body as WireHeartbeat;
    expect(Object.keys(body).sort()).toEqual(['expires_at', 'last_heartbeat', 'message', 'service_id', 'status']);
    expect(body).toMatchObject({ service_id: target.service_id, status: 'active', message: 'Heartbeat received successfully' });
    expect(ms(body.expires_at)).toBeGreaterThan(ms(target.expires_at));
    expect(ms(body.last_heartbeat)).toBeGreaterThan(ms(target.last_heartbeat));
    // The record's TTL applies when no ?ttl= is given.
    expect(ms(body.expires_at) - ms(body.last_heartbeat)).toBe(240_000);
    expect((await api.getService(target.service_id)).expires_at).toBe(body.expires_at);
  });

  it('?ttl= sets expires_at to about now + ttl', async () => {
    const result = await api.call('PUT', `${SERVICES}/${target.service_id}/heartbeat?ttl=600`);
    expect(result.status, result.text).toBe(200);
    const expiresAt = ms((result.body as WireHeartbeat).expires_at);
    expect(Math.abs(expiresAt - (Date.now() + 600_000))).toBeLessThan(2000);
  });

  it('works with no body and with an empty JSON body', async () => {
    const bare = await api.call('PUT', `${SERVICES}/${target.service_id}/heartbeat`);
    expect(bare.status, bare.text).toBe(200);
    const empty = await api.call('PUT', `${SERVICES}/${target.service_id}/heartbeat`, { raw: '', contentType: 'application/json' });
    expect(empty.status, empty.text).toBe(200);
    expect((empty.body as WireHeartbeat).message).toBe('Heartbeat received successfully');
  });

  it('answers 404 with detail for an unknown id (so clients re-register)', async () => {
    const unknown = randomUUID();
    expectError(await api.call('PUT', `${SERVICES}/${unknown}/heartbeat`), 404, unknown);
  });

  it.each(['ttl=5', 'ttl=abc', 'ttl=1&ttl=2', 'ttl=86401', 'ttl=10.5', 'ttl[$gt]=1', 'bogus=1'])(
    'rejects ?%s with 400 and changes nothing',
    async (query) => {
      const before = await api.getService(target.service_id);
      const field = query.startsWith('bogus') ? 'bogus' : 'ttl';
      expectError(await api.call('PUT', `${SERVICES}/${target.service_id}/heartbeat?${query}`), 400, field);
      const after = await api.getService(target.service_id);
      expect(after.expires_at).toBe(before.expires_at);
      expect(after.revision).toBe(before.revision);
    },
  );
});

describe('GET /services filters and paging', () => {
  const type = unique('ft');
  const otherType = unique('fo');
  const t1 = unique('t1');
  const t2 = unique('t2');
  let f1: WireService;
  let f2: WireService;
  let f3: WireService;

  beforeAll(async () => {
    f1 = await api.register({
      name: unique('f1'),
      type,
      host: '10.4.0.1',
      port: 1,
      protocol: 'mqtt',
      tags: [t1, t2],
      version: '1.0',
      node_id: 'node-a',
      metadata: { zone: 'z1', rack: 'r1' },
    });
    f2 = await api.register({
      name: unique('f2'),
      type,
      host: '10.4.0.2',
      port: 2,
      protocol: 'http',
      tags: [t1],
      version: '2.0',
      node_id: 'node-b',
      metadata: { zone: 'z1', rack: 'r2' },
    });
    f3 = await api.register({
      name: unique('f3'),
      type: otherType,
      host: '10.4.0.3',
      port: 3,
      protocol: 'http',
      tags: [t2],
      version: '1.0',
      node_id: 'node-a',
      metadata: { zone: 'z2' },
    });
    const inactive = await api.call('PUT', `${SERVICES}/${f2.service_id}`, { json: { status: 'inactive' } });
    expect(inactive.status, inactive.text).toBe(200);
  });

  const expectMatches = async (query: string, expected: () => WireService[]): Promise<void> => {
    const listed = await api.list(query);
    expect(ids(listed.services), query).toEqual(ids(expected()));
    expect(listed.total, query).toBe(expected().length);
  };

  it('filters by type', () => expectMatches(`?type=${type}`, () => [f1, f2]));
  it('filters by tags: all must match, repeated parameter', () => expectMatches(`?tags=${t1}&tags=${t2}`, () => [f1]));
  it('filters by tags: all must match, comma list', () => expectMatches(`?tags=${t1},${t2}`, () => [f1]));
  it('filters by a single tag', () => expectMatches(`?tags=${t2}`, () => [f1, f3]));
  it('filters by protocol', () => expectMatches(`?type=${type}&protocol=mqtt`, () => [f1]));
  it('filters by status', async () => {
    await expectMatches(`?type=${type}&status=inactive`, () => [f2]);
    await expectMatches(`?type=${type}&status=active`, () => [f1]);
  });
  it('filters by name', () => expectMatches(`?name=${f3.name}`, () => [f3]));
  it('filters by version', () => expectMatches(`?tags=${t2}&version=1.0`, () => [f1, f3]));
  it('filters by health', async () => {
    await expectMatches(`?type=${type}&health=unknown`, () => [f1, f2]);
    await expectMatches(`?type=${type}&health=healthy`, () => []);
  });
  it('filters by node_id', () => expectMatches(`?tags=${t2}&node_id=node-a`, () => [f1, f3]));
  it('filters by several metadata.<key>=<value> at once', async () => {
    await expectMatches(`?tags=${t1}&metadata.zone=z1`, () => [f1, f2]);
    await expectMatches(`?tags=${t1}&metadata.zone=z1&metadata.rack=r2`, () => [f2]);
    await expectMatches(`?tags=${t1}&metadata.zone=z2`, () => []);
  });
  it('rejects an invalid status or health value', async () => {
    expectError(await api.call('GET', `${SERVICES}?status=gone`), 400, 'status');
    expectError(await api.call('GET', `${SERVICES}?health=meh`), 400, 'health');
  });

  describe('paging', () => {
    const tag = unique('page');
    const registered: WireService[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 5; i++) registered.push(await api.register({ name: unique('pg'), host: '10.4.1.1', port: 100 + i, tags: [tag] }));
    });

    it('pages with limit/skip: page = skip/limit + 1, total counts every match', async () => {
      const pages = [
        await api.list(`?tags=${tag}&limit=2&skip=0`),
        await api.list(`?tags=${tag}&limit=2&skip=2`),
        await api.list(`?tags=${tag}&limit=2&skip=4`),
      ];
      expect(pages.map((page) => page.services.length)).toEqual([2, 2, 1]);
      expect(pages.map((page) => page.total)).toEqual([5, 5, 5]);
      expect(pages.map((page) => page.page)).toEqual([1, 2, 3]);
      expect(pages.map((page) => page.page_size)).toEqual([2, 2, 2]);
      // Together the pages hold each record exactly once.
      expect(ids(pages.flatMap((page) => page.services))).toEqual(ids(registered));
    });

    it('rounds page down when skip is not a multiple of limit', async () => {
      const listed = await api.list(`?tags=${tag}&limit=2&skip=3`);
      expect(listed).toMatchObject({ total: 5, page: 2, page_size: 2 });
      expect(listed.services).toHaveLength(2);
    });

    it('defaults to limit 50, skip 0', async () => {
      const listed = await api.list(`?tags=${tag}`);
      expect(listed).toMatchObject({ total: 5, page: 1, page_size: 50 });
      expect(listed.services).toHaveLength(5);
    });

    it('a skip past the end returns no services but the full total', async () => {
      const listed = await api.list(`?tags=${tag}&limit=10&skip=10`);
      expect(listed).toMatchObject({ total: 5, page: 2, page_size: 10 });
      expect(listed.services).toEqual([]);
    });

    it.each(['limit=0', 'limit=101', 'limit=x', 'skip=-1', 'limit=1&limit=2'])('rejects ?%s with 400', async (query) => {
      expectError(await api.call('GET', `${SERVICES}?${query}`), 400, query.split('=')[0] as string);
    });
  });

  it('rejects an unknown query parameter, naming it', async () => {
    expectError(await api.call('GET', `${SERVICES}?colour=blue`), 400, 'colour');
  });

  it.each([
    ['type[$ne]=x', '$ne'],
    ['metadata.$where=1', '$where'],
    ['tags[$in]=a', '$in'],
    ['%24where=1', '$where'],
    ['metadata[$ne]=1', '$ne'],
  ])('rejects $-operator smuggling ?%s with 400 and returns nothing', async (query, named) => {
    const result = await api.call('GET', `${SERVICES}?${query}`);
    const error = expectError(result, 400, named);
    expect(error).not.toHaveProperty('services');
  });
});

describe('query parameters that are not plain filters', () => {
  it.each([
    ['__proto__=x', '__proto__'],
    ['constructor=x', 'constructor'],
    ['toString=1', 'toString'],
    ['metadata.constructor=x', 'metadata.constructor'],
    ['metadata.__proto__=x', 'metadata.__proto__'],
    ['metadata.a=1&metadata.a=2', 'metadata.a'],
    ['metadata.=1', 'metadata.'],
  ])('GET /services rejects the prototype-ish or malformed parameter ?%s with 400 naming it', async (query, named) => {
    expectError(await api.call('GET', `${SERVICES}?${query}`), 400, named);
  });
});

describe('discover (GET and POST)', () => {
  const type = unique('disc');
  const tag = unique('dtag');
  let active: WireService;
  let inactive: WireService;

  beforeAll(async () => {
    active = await api.register({ name: unique('d-active'), type, host: '10.5.0.1', port: 1, tags: [tag], protocol: 'mqtt' });
    inactive = await api.register({ name: unique('d-inactive'), type, host: '10.5.0.2', port: 2, tags: [tag] });
    const result = await api.call('PUT', `${SERVICES}/${inactive.service_id}`, { json: { status: 'inactive' } });
    expect(result.status, result.text).toBe(200);
    expect((result.body as WireService).status).toBe('inactive');
  });

  it('GET returns only active services by default, with filters_applied and discovery_method', async () => {
    const result = await api.call('GET', `${SERVICES}/discover?type=${type}`);
    expect(result.status, result.text).toBe(200);
    const body = result.body as WireDiscover;
    expect(ids(body.services)).toEqual([active.service_id]);
    expect(body.total).toBe(1);
    expect(body.discovery_method).toBe('api');
    expect(body.filters_applied).toMatchObject({ type, status: 'active' });
  });

  it('GET with a status filter overrides the default', async () => {
    const body = (await api.call('GET', `${SERVICES}/discover?type=${type}&status=inactive`)).body as WireDiscover;
    expect(ids(body.services)).toEqual([inactive.service_id]);
    expect(body.filters_applied.status).toBe('inactive');
  });

  it('GET echoes tags comma-joined in filters_applied', async () => {
    const body = (await api.call('GET', `${SERVICES}/discover?tags=${tag}&protocol=mqtt`)).body as WireDiscover;
    expect(ids(body.services)).toEqual([active.service_id]);
    expect(body.filters_applied).toMatchObject({ tags: tag, protocol: 'mqtt' });
  });

  it('GET rejects bad query parameters', async () => {
    expectError(await api.call('GET', `${SERVICES}/discover?nope=1`), 400, 'nope');
    expectError(await api.call('GET', `${SERVICES}/discover?type[$ne]=x`), 400, '$ne');
  });

  it('POST takes the filter as a body and limit/skip in the query', async () => {
    const result = await api.call('POST', `${SERVICES}/discover?limit=1&skip=0`, { json: { type, tags: [tag] } });
    expect(result.status, result.text).toBe(200);
    const body = result.body as WireDiscover;
    expect(ids(body.services)).toEqual([active.service_id]);
    expect(body).toMatchObject({ total: 1, discovery_method: 'api' });
    expect(body.filters_applied).toMatchObject({ type, tags: tag, status: 'active' });
    const overridden = (await api.call('POST', `${SERVICES}/discover`, { json: { type, status: 'inactive' } })).body as WireDiscover;
    expect(ids(overridden.services)).toEqual([inactive.service_id]);
  });

  it('POST pages with limit/skip in the query', async () => {
    const none = (await api.call('POST', `${SERVICES}/discover`, { json: { tags: [tag], protocol: 'http' } })).body as WireDiscover;
    // http + this tag matches only the inactive one, which discovery leaves out.
    expect(none.total).toBe(0);
    const page = await api.call('POST', `${SERVICES}/discover?limit=1&skip=1`, { json: { type, status: 'active' } });
    expect(page.status, page.text).toBe(200);
    expect((page.body as WireDiscover).services).toEqual([]);
    expect((page.body as WireDiscover).total).toBe(1);
  });

  it.each([
    ['a wrong type', { type: 5 }, 'type'],
    ['an unknown field', { colour: 'blue' }, 'colour'],
    ['paging in the body', { limit: 5 }, 'limit'],
    ['an operator', { type: { $ne: 'x' } }, '$ne'],
    ['a bad status', { status: 'gone' }, 'status'],
  ])('POST rejects %s with 400', async (_label, body, named) => {
    expectError(await api.call('POST', `${SERVICES}/discover`, { json: body }), 400, named);
  });

  it('POST rejects a non-object body and bad paging', async () => {
    expectError(await api.call('POST', `${SERVICES}/discover`, { json: [type] }), 400);
    expectError(await api.call('POST', `${SERVICES}/discover`, { raw: '{"type":', contentType: 'application/json' }), 400, 'json');
    expectError(await api.call('POST', `${SERVICES}/discover?limit=0`, { json: {} }), 400, 'limit');
  });
});

describe('GET /services/{id} and /status', () => {
  it('returns the service object from both, and 404 with detail for an unknown id', async () => {
    const service = await api.register({ name: unique('get'), host: '10.6.0.1', port: 1 });
    expect(await api.getService(service.service_id)).toEqual(service);
    const status = await api.call('GET', `${SERVICES}/${service.service_id}/status`);
    expect(status.status, status.text).toBe(200);
    expect(status.body).toEqual(service);
    const unknown = randomUUID();
    expectError(await api.call('GET', `${SERVICES}/${unknown}`), 404, unknown);
    expectError(await api.call('GET', `${SERVICES}/${unknown}/status`), 404, unknown);
  });
});

describe('PUT /services/{id}', () => {
  const full = (): Record<string, unknown> => ({
    name: unique('upd'),
    type: 'api',
    host: '10.7.0.1',
    port: ++counter,
    tags: ['x'],
    metadata: { a: 'b' },
    version: '1.2',
    node_id: 'node-1',
    health_check_url: 'http://10.7.0.1/health',
  });

  it('changes only the given fields', async () => {
    const before = await api.register(full());
    // So the new updated_at is measurably later.
    await waitFor('the clock past the registration', () => Date.now() > ms(before.updated_at) + 1);
    const result = await api.call('PUT', `${SERVICES}/${before.service_id}`, { json: { tags: ['y', 'z'], protocol: 'https' } });
    expect(result.status, result.text).toBe(200);
    const after = result.body as WireService;
    const { tags, protocol, updated_at, revision, ...rest } = after;
    expect({ tags, protocol }).toEqual({ tags: ['y', 'z'], protocol: 'https' });
    const { tags: _t, protocol: _p, updated_at: beforeUpdated, revision: beforeRevision, ...restBefore } = before;
    expect(rest).toEqual(restBefore);
    expect(revision).toBeGreaterThan(beforeRevision);
    expect(ms(updated_at)).toBeGreaterThan(ms(beforeUpdated));
    expect(await api.getService(before.service_id)).toEqual(after);
  });

  it('null clears version, node_id and health_check_url', async () => {
    const before = await api.register(full());
    const result = await api.call('PUT', `${SERVICES}/${before.service_id}`, {
      json: { version: null, node_id: null, health_check_url: null },
    });
    expect(result.status, result.text).toBe(200);
    expect(result.body).toMatchObject({ version: null, node_id: null, health_check_url: null, name: before.name });
    expect(await api.getService(before.service_id)).toMatchObject({ version: null, node_id: null, health_check_url: null });
  });

  it.each(['name', 'port', 'host', 'type'])('null for required field %s is a 400 and changes nothing', async (field) => {
    const before = await api.register(full());
    expectError(await api.call('PUT', `${SERVICES}/${before.service_id}`, { json: { [field]: null } }), 400, field);
    expect(await api.getService(before.service_id)).toEqual(before);
  });

  it('changing type re-derives mdns_service_type', async () => {
    const before = await api.register(full());
    expect(before.mdns_service_type).toBe('_http._tcp');
    const result = await api.call('PUT', `${SERVICES}/${before.service_id}`, { json: { type: 'mqtt' } });
    expect(result.status, result.text).toBe(200);
    expect(result.body).toMatchObject({ type: 'mqtt', mdns_service_type: '_mqtt._tcp' });
  });

  it('moving onto another record’s (name, host, port) is a 409 and changes nothing', async () => {
    const holder = await api.register(full());
    const mover = await api.register({ ...full(), name: holder.name, host: holder.host });
    const result = await api.call('PUT', `${SERVICES}/${mover.service_id}`, { json: { port: holder.port } });
    expectError(result, 409, holder.service_id);
    expect(await api.getService(mover.service_id)).toEqual(mover);
    expect(await api.getService(holder.service_id)).toEqual(holder);
  });

  it('sets status inactive and back to active; rejects expired and unhealthy', async () => {
    const service = await api.register(full());
    const inactive = await api.call('PUT', `${SERVICES}/${service.service_id}`, { json: { status: 'inactive' } });
    expect((inactive.body as WireService).status).toBe('inactive');
    const active = await api.call('PUT', `${SERVICES}/${service.service_id}`, { json: { status: 'active' } });
    expect((active.body as WireService).status).toBe('active');
    for (const status of ['expired', 'unhealthy']) {
      expectError(await api.call('PUT', `${SERVICES}/${service.service_id}`, { json: { status } }), 400, 'status');
    }
    expect((await api.getService(service.service_id)).status).toBe('active');
  });

  it('rejects invalid values and unknown fields with 400', async () => {
    const service = await api.register(full());
    expectError(await api.call('PUT', `${SERVICES}/${service.service_id}`, { json: { port: 70000 } }), 400, 'port');
    expectError(await api.call('PUT', `${SERVICES}/${service.service_id}`, { json: { service_id: randomUUID() } }), 400, 'service_id');
    expectError(await api.call('PUT', `${SERVICES}/${service.service_id}`, { json: { revision: 1 } }), 400, 'revision');
    expect(await api.getService(service.service_id)).toEqual(service);
  });

  it('answers 404 for an unknown id', async () => {
    const unknown = randomUUID();
    expectError(await api.call('PUT', `${SERVICES}/${unknown}`, { json: { tags: ['a'] } }), 404, unknown);
  });
});

describe('DELETE /services/{id}', () => {
  it('answers 204 with no body; then GET and DELETE are 404', async () => {
    const service = await api.register({ name: unique('del'), host: '10.8.0.1', port: 1 });
    const deleted = await api.call('DELETE', `${SERVICES}/${service.service_id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectError(await api.call('GET', `${SERVICES}/${service.service_id}`), 404, service.service_id);
    expectError(await api.call('DELETE', `${SERVICES}/${service.service_id}`), 404, service.service_id);
    expect(await api.count(`?name=${service.name}`)).toBe(0);
  });
});

describe('GET /services/types and /tags', () => {
  it('return sorted, distinct arrays of strings that include what was registered', async () => {
    const typeA = unique('zz-type');
    const typeB = unique('aa-type');
    const tag = unique('tag');
    await api.register({ name: unique('tt'), type: typeA, host: '10.9.1.1', port: 1, tags: [tag, 'shared'] });
    await api.register({ name: unique('tt'), type: typeB, host: '10.9.1.1', port: 2, tags: [tag, 'shared'] });
    for (const [path, expected] of [
      ['types', [typeA, typeB]],
      ['tags', [tag, 'shared']],
    ] as const) {
      const result = await api.call('GET', `${SERVICES}/${path}`);
      expect(result.status, result.text).toBe(200);
      const values = result.body as unknown[];
      expect(Array.isArray(values)).toBe(true);
      expect(values.every((value) => typeof value === 'string')).toBe(true);
      expect(values).toEqual([...values].sort());
      expect(new Set(values).size).toBe(values.length);
      for (const value of expected) expect(values).toContain(value);
    }
  });
});

/** `[[[…'x'…]]]`, `depth` arrays deep. */
function nest(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('bad registration input (400 naming the field; nothing stored)', () => {
  const valid = (): Record<string, unknown> => ({ name: unique('bad'), host: '10.10.0.1', port: 1 });

  const cases: [string, Record<string, unknown>, string][] = [
    ['name: 123', { name: 123 }, 'name'],
    ['name: ""', { name: '' }, 'name'],
    ['name of 101 chars', { name: 'n'.repeat(101) }, 'name'],
    ['port: "abc"', { port: 'abc' }, 'port'],
    ['port: 80.5', { port: 80.5 }, 'port'],
    ['port: 0', { port: 0 }, 'port'],
    ['port: 65536', { port: 65536 }, 'port'],
    ['port: true', { port: true }, 'port'],
    ['tags: "x"', { tags: 'x' }, 'tags'],
    ['tags: [1]', { tags: [1] }, 'tags'],
    ['metadata: {a: 1}', { metadata: { a: 1 } }, 'metadata'],
    ['metadata: []', { metadata: [] }, 'metadata'],
    ['ttl: 9', { ttl: 9 }, 'ttl'],
    ['ttl: 86401', { ttl: 86401 }, 'ttl'],
    ['health_check_interval: 0', { health_check_interval: 0 }, 'health_check_interval'],
    ['an unknown field', { colour: 'blue' }, 'colour'],
    ['name: {$ne: ""}', { name: { $ne: '' } }, '$ne'],
    ['a metadata key starting with $', { metadata: { $where: 'x' } }, '$where'],
    ['a top-level $ key', { $set: { name: 'x' } }, '$set'],
    ['health_check_url "ftp://x"', { health_check_url: 'ftp://x' }, 'health_check_url'],
    ['health_check_url "javascript:alert(1)"', { health_check_url: 'javascript:alert(1)' }, 'health_check_url'],
    ['host "http://x"', { host: 'http://x' }, 'host'],
    ['host ""', { host: '' }, 'host'],
    ['missing port', { port: undefined }, 'port'],
    ['type of 51 chars', { type: 't'.repeat(51) }, 'type'],
    ['protocol of 21 chars', { protocol: 'p'.repeat(21) }, 'protocol'],
    ['a comma inside a tag', { tags: ['a,b'] }, 'tags'],
    ['65 tags', { tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }, 'tags'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a metadata key "constructor"', { metadata: { constructor: 'x' } }, 'constructor'],
    ['a metadata key "toString"', { metadata: { toString: 'x' } }, 'toString'],
    ['an mdns_txt_records key "constructor"', { mdns_txt_records: { constructor: 'x' } }, 'constructor'],
    ['a top-level "toString" field', { toString: 'x' }, 'toString'],
    ['metadata nested 20 levels deep', { metadata: nest(20) }, 'nested'],
    ['tags nested 1000 levels deep', { tags: nest(1000) }, 'nested'],
    ['a bad mdns_service_type', { mdns_service_type: 'http' }, 'mdns_service_type'],
    ['health_check_retries: 0', { health_check_retries: 0 }, 'health_check_retries'],
  ];

  it.each(cases)('%s → 400, nothing stored', async (_label, patch, field) => {
    const total = await api.count();
    const body = { ...valid(), ...patch };
    expectError(await api.call('POST', `${SERVICES}/register`, { json: body }), 400, field);
    expect(await api.count()).toBe(total);
  });

  it.each([
    ['invalid JSON', '{"name": "x", ', 'application/json', 400, 'json'],
    ['a JSON array', '[{"name":"x","host":"h","port":1}]', 'application/json', 400, 'object'],
    ['a JSON string', '"x"', 'application/json', 400, 'object'],
    ['a JSON number', '42', 'application/json', 400, 'object'],
    ['JSON null', 'null', 'application/json', 400, 'name'],
    ['a __proto__ key', '{"name":"p","host":"h","port":1,"__proto__":{"admin":true}}', 'application/json', 400, 'prototype'],
    [
      'a constructor.prototype key',
      '{"name":"p","host":"h","port":1,"constructor":{"prototype":{"admin":true}}}',
      'application/json',
      400,
      'prototype',
    ],
    ['form-urlencoded', 'name=x&host=h&port=1', 'application/x-www-form-urlencoded', 415, 'content-type'],
    ['JSON sent as text/plain', '{"name":"x","host":"h","port":1}', 'text/plain', 415, 'content-type'],
  ])('%s → %i, nothing stored', async (_label, raw, contentType, status, fragment) => {
    const total = await api.count();
    expectError(await api.call('POST', `${SERVICES}/register`, { raw, contentType }), status, ...(fragment ? [fragment] : []));
    expect(await api.count()).toBe(total);
  });

  it('a body over 64 KiB → 413, nothing stored', async () => {
    const total = await api.count();
    const name = unique('huge');
    const raw = JSON.stringify({ name, host: '10.10.0.2', port: 1, metadata: { blob: 'b'.repeat(70 * 1024) } });
    expectError(await api.call('POST', `${SERVICES}/register`, { raw, contentType: 'application/json' }), 413);
    expect(await api.count()).toBe(total);
    expect(await api.count(`?name=${name}`)).toBe(0);
  });

  it('a 1000-char name and a body just under 64 KiB are handled without a 5xx', async () => {
    const raw = JSON.stringify({ name: 'n'.repeat(1000), host: 'h', port: 1, pad: 'p'.repeat(60 * 1024) });
    const result = await api.call('POST', `${SERVICES}/register`, { raw, contentType: 'application/json' });
    expectError(result, 400, 'name', 'pad');
  });
});

describe('malformed paths and unknown routes', () => {
  it.each([
    ['a broken percent-encoding', `${SERVICES}/%FF%FE`, 400],
    ['an id longer than any path parameter may be (1024)', `${SERVICES}/${'a'.repeat(1100)}`, 414],
    ['an unknown route', '/api/v1/nope', 404],
  ])('%s gets a 4xx with a detail body', async (_label, path, status) => {
    expectError(await api.call('GET', path), status);
  });

  it('a heartbeat for an over-long id gets a 414 with detail', async () => {
    expectError(await api.call('PUT', `${SERVICES}/${'b'.repeat(1100)}/heartbeat`), 414);
    // Long but within the router's bound: an ordinary unknown id.
    expectError(await api.call('PUT', `${SERVICES}/${'b'.repeat(300)}/heartbeat`), 404);
  });
});

describe('effective expiry on read, /expired and /cleanup', () => {
  it('reads past-expires_at records as expired everywhere; a heartbeat revives; cleanup removes the rest', async () => {
    const latest = Math.max(...expiring.map((service) => ms(service.expires_at)));
    // Most of the TTL has passed while the tests above ran.
    await waitFor('the TTL-10 services to pass expires_at', () => Date.now() > latest + 100, 15_000);
    const [e1, e2, e3] = expiring as [WireService, WireService, WireService];

    // The reaper is not running: status is computed on read.
    expect((await api.getService(e1.service_id)).status).toBe('expired');
    const status = await api.call('GET', `${SERVICES}/${e2.service_id}/status`);
    expect((status.body as WireService).status).toBe('expired');

    const expiredResult = await api.call('GET', `${SERVICES}/expired`);
    expect(expiredResult.status, expiredResult.text).toBe(200);
    const expiredList = expiredResult.body as { services: WireService[]; total: number };
    expect(expiredList).toHaveProperty('total');
    expect(expiredList.services.map((service) => service.service_id)).toEqual(expect.arrayContaining(ids(expiring)));
    expect(expiredList.services.every((service) => service.status === 'expired')).toBe(true);
    expect(expiredList.total).toBe(expiredList.services.length);

    const byStatus = await api.list(`?status=expired&type=${EXPIRING_TYPE}`);
    expect(ids(byStatus.services)).toEqual(ids(expiring));
    expect(await api.count(`?status=active&type=${EXPIRING_TYPE}`)).toBe(0);

    const discovered = (await api.call('GET', `${SERVICES}/discover?type=${EXPIRING_TYPE}`)).body as WireDiscover;
    expect(discovered.services).toEqual([]);
    const posted = (await api.call('POST', `${SERVICES}/discover`, { json: { type: EXPIRING_TYPE } })).body as WireDiscover;
    expect(posted.total).toBe(0);

    // A status update cannot revive an expired record: only a heartbeat or registration can.
    const update = await api.call('PUT', `${SERVICES}/${e1.service_id}`, { json: { status: 'active' } });
    expect(update.status, update.text).toBeGreaterThanOrEqual(400);
    expect(update.status).toBeLessThan(500);
    expect((await api.getService(e1.service_id)).status).toBe('expired');

    const revived = await api.call('PUT', `${SERVICES}/${e3.service_id}/heartbeat`);
    expect(revived.status, revived.text).toBe(200);
    expect((revived.body as WireHeartbeat).status).toBe('active');
    expect(ms((revived.body as WireHeartbeat).expires_at)).toBeGreaterThan(Date.now());
    expect((await api.getService(e3.service_id)).status).toBe('active');
    const rediscovered = (await api.call('GET', `${SERVICES}/discover?type=${EXPIRING_TYPE}`)).body as WireDiscover;
    expect(ids(rediscovered.services)).toEqual([e3.service_id]);

    const expiredBefore = await api.count('?status=expired');
    expect(expiredBefore).toBeGreaterThanOrEqual(2);
    const cleanup = await api.call('DELETE', `${SERVICES}/cleanup`);
    expect(cleanup.status, cleanup.text).toBe(200);
    const cleaned = cleanup.body as { removed_count: number; message: string };
    expect(cleaned.removed_count).toBe(expiredBefore);
    expect(typeof cleaned.message).toBe('string');
    expect(cleaned.message).toContain(String(expiredBefore));
    expectError(await api.call('GET', `${SERVICES}/${e1.service_id}`), 404, e1.service_id);
    expectError(await api.call('GET', `${SERVICES}/${e2.service_id}`), 404, e2.service_id);
    expect((await api.getService(e3.service_id)).status).toBe('active');
    expect(((await api.call('GET', `${SERVICES}/expired`)).body as { total: number }).total).toBe(0);

    // Nothing left to clean.
    const again = await api.call('DELETE', `${SERVICES}/cleanup`);
    expect((again.body as { removed_count: number }).removed_count).toBe(0);
    // e3 would expire again 10 s from now, in the middle of the health counts below.
    expect((await api.call('DELETE', `${SERVICES}/${e3.service_id}`)).status).toBe(204);
  });
});

describe('health, readiness, metrics', () => {
  interface HealthBody {
    status: string;
    message: string;
    version: string;
    uptime: number;
    timestamp: string;
    services: Record<'total' | 'active' | 'inactive' | 'expired' | 'unhealthy', number>;
    database: { connected: boolean; ping_ms: number };
    mdns: { running: unknown };
    memory: { used_mb: number; cache_size: number };
  }

  const health = async (): Promise<{ body: HealthBody; elapsed: number }> => {
    const started = performance.now();
    const result = await api.call('GET', '/api/v1/health');
    const elapsed = performance.now() - started;
    expect(result.status, result.text).toBe(200);
    return { body: result.body as HealthBody, elapsed };
  };

  it('GET /api/v1/health has seed 000’s body, counts matching the catalog, and answers fast', async () => {
    // Two inactive services of its own, so the inactive count it checks does not rest on other tests.
    for (let i = 0; i < 2; i++) {
      const paused = await api.register({ name: unique('paused'), host: '10.11.0.2', port: 1 + i });
      const result = await api.call('PUT', `${SERVICES}/${paused.service_id}`, { json: { status: 'inactive' } });
      expect(result.status, result.text).toBe(200);
    }
    const { body, elapsed } = await health();
    expect(elapsed).toBeLessThan(1000);
    expect(body.status).toBe('healthy');
    expect(typeof body.message).toBe('string');
    expect(body.message.length).toBeGreaterThan(0);
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Number.isInteger(body.uptime) && body.uptime >= 0).toBe(true);
    expect(body.timestamp).toMatch(ISO_UTC);
    expect(Math.abs(ms(body.timestamp) - Date.now())).toBeLessThan(5000);
    expect(body.database.connected).toBe(true);
    expect(typeof body.database.ping_ms).toBe('number');
    expect(body.mdns.running).toBe('unknown');
    // The counts agree with what the list endpoint finds for each status.
    expect(body.services).toEqual({
      total: await api.count(),
      active: await api.count('?status=active'),
      inactive: await api.count('?status=inactive'),
      expired: await api.count('?status=expired'),
      unhealthy: await api.count('?status=unhealthy'),
    });
    expect(body.services.inactive).toBeGreaterThanOrEqual(2); // set above
    expect(body.services.total).toBe(body.services.active + body.services.inactive + body.services.expired + body.services.unhealthy);
    // Seed 000's troubleshooting reads `.memory`: resident MB, and the records cached (all of them, on SQLite).
    expect(body.memory.used_mb).toBeGreaterThan(10);
    expect(body.memory.cache_size).toBe(body.services.total);

    await api.register({ name: unique('counted'), host: '10.11.0.1', port: 1 });
    const after = (await health()).body;
    expect(after.services.total).toBe(body.services.total + 1);
    expect(after.services.active).toBe(body.services.active + 1);
  });

  it('GET /api/v1/ready and /api/v1/live', async () => {
    const ready = await api.call('GET', '/api/v1/ready');
    expect(ready.status, ready.text).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready' });
    const live = await api.call('GET', '/api/v1/live');
    expect(live.status, live.text).toBe(200);
    expect(live.body).toEqual({ status: 'alive' });
  });

  it('/health, /ready and /metrics at the root', async () => {
    const liveness = await api.call('GET', '/health');
    expect(liveness.status, liveness.text).toBe(200);
    const ready = await api.call('GET', '/ready');
    expect(ready.status, ready.text).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready' });
    const metrics = await api.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toContain('beacon_http_requests_total');
  });
});

describe('OpenAPI', () => {
  it('serves the UI at /api/docs and the document at /api/docs-json', async () => {
    const ui = await api.call('GET', '/api/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    const doc = await api.call('GET', '/api/docs-json');
    expect(doc.status).toBe(200);
    const document = doc.body as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(document.paths).toHaveProperty(['/api/v1/services/register']);
    expect(document.paths).toHaveProperty(['/api/v1/services/{id}/heartbeat']);
    expect(document.components.schemas).toHaveProperty('RegisterServiceDto');
    expect(Object.keys(document.components.schemas.RegisterServiceDto?.properties ?? {})).toEqual(
      expect.arrayContaining(['name', 'type', 'host', 'port', 'ttl']),
    );
  });
});

describe('CORS', () => {
  it("is off by default: other origins' pages get no CORS headers, and their writes a 403", async () => {
    const result = await api.call('GET', `${SERVICES}/types`, { headers: { origin: 'http://example.com' } });
    expect(result.status).toBe(200);
    expect(result.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await api.call('OPTIONS', `${SERVICES}/register`, {
      headers: { origin: 'http://example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const write = await api.call('POST', `${SERVICES}/register`, {
      json: { name: unique('cross-site'), host: '10.9.0.9', port: 9 },
      headers: { origin: 'http://example.com' },
    });
    expectError(write, 403, 'CORS_ORIGINS');
  });

  it('CORS_ORIGINS=* allows any origin', async () => {
    const other = new Client(authApp.api.url);
    const result = await other.call('GET', `${SERVICES}/types`, { headers: { origin: 'http://example.com' } });
    expect(result.status).toBe(200);
    expect(['*', 'http://example.com']).toContain(result.headers.get('access-control-allow-origin'));
    const preflight = await other.call('OPTIONS', `${SERVICES}/register`, {
      headers: { origin: 'http://example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).not.toBeNull();
  });
});

describe('fuzz: random malformed input never yields a 5xx', () => {
  it('survives ~100 random bodies and queries', async () => {
    const seed = Number(process.env.BEACON_FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const fields = [
      'name',
      'type',
      'host',
      'port',
      'protocol',
      'tags',
      'metadata',
      'ttl',
      'version',
      'node_id',
      'instance_id',
      'status',
      'health',
      'health_check_url',
      'health_check_interval',
      'health_check_timeout',
      'health_check_retries',
      'mdns_service_type',
      'mdns_txt_records',
      'limit',
      'skip',
      '__proto__',
      '$where',
      'metadata.x',
      'extra',
    ];
    const target = await api.register({ name: unique('fuzz-target'), host: '10.12.0.1', port: 1 });

    const failures: string[] = [];
    for (let i = 0; i < 100; i++) {
      const body: Record<string, unknown> = { name: unique('fuzz'), host: '10.12.0.2', port: 1 + i };
      for (let n = 0; n < 1 + Math.floor(random() * 3); n++) body[pick(fields)] = randomJson(random);
      const value = randomJson(random);
      const queryValue = encodeURIComponent(typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'));
      const request = pick([
        (): [string, string, unknown] => ['POST', `${SERVICES}/register`, body],
        (): [string, string, unknown] => ['PUT', `${SERVICES}/${target.service_id}`, body],
        (): [string, string, unknown] => ['POST', `${SERVICES}/discover`, body],
        (): [string, string, unknown] => ['GET', `${SERVICES}?${pick(fields)}=${queryValue}`, undefined],
        (): [string, string, unknown] => ['GET', `${SERVICES}/discover?${pick(fields)}[$gt]=${queryValue}`, undefined],
        (): [string, string, unknown] => ['PUT', `${SERVICES}/${target.service_id}/heartbeat?ttl=${queryValue}`, undefined],
        (): [string, string, unknown] => ['GET', `${SERVICES}/${queryValue}`, undefined],
        (): [string, string, unknown] => ['POST', `${SERVICES}/register`, value],
      ])();
      const [method, path, json] = request;
      const result = await api.call(method, path, json === undefined ? {} : { json });
      if (result.status >= 500) failures.push(`${method} ${path} ${JSON.stringify(json)} → ${result.status} ${result.text}`);
    }
    expect(failures, `fuzz seed ${seed}`).toEqual([]);
    expect(main.api.child.exitCode).toBeNull();
    expect((await api.call('GET', '/api/v1/live')).status).toBe(200);
  });
});

describe('auth', () => {
  const registerOn = (fixture: RegistryFixture, token: string | null): Promise<HttpResult> =>
    new Client(fixture.api.url).call('POST', `${SERVICES}/register`, {
      json: { name: unique('auth'), host: '10.13.0.1', port: 1 },
      token,
    });

  it('BEACON_AUTH_TOKEN=tok1,tok2 guards mutations: none or a wrong token → 401; either token works', async () => {
    expectError(await registerOn(authApp, null), 401, 'token');
    expectError(await registerOn(authApp, 'nope'), 401, 'token');
    expectError(await registerOn(authApp, 'tok1x'), 401);
    const client = new Client(authApp.api.url);
    const noBearer = await client.call('POST', `${SERVICES}/register`, {
      json: { name: unique('auth'), host: '10.13.0.1', port: 2 },
      token: null,
      headers: { authorization: 'tok1' },
    });
    expectError(noBearer, 401);
    expect(await client.count()).toBe(0);

    const one = await registerOn(authApp, 'tok1');
    expect(one.status, one.text).toBe(201);
    const two = await registerOn(authApp, 'tok2');
    expect(two.status, two.text).toBe(201);
    const id = (one.body as WireService).service_id;

    expectError(await client.call('PUT', `${SERVICES}/${id}/heartbeat`), 401);
    expectError(await client.call('PUT', `${SERVICES}/${id}`, { json: { tags: ['x'] } }), 401);
    expectError(await client.call('DELETE', `${SERVICES}/${id}`), 401);
    expectError(await client.call('DELETE', `${SERVICES}/cleanup`), 401);
    expect((await client.getService(id)).tags).toEqual([]);
    expect((await client.call('PUT', `${SERVICES}/${id}/heartbeat`, { token: 'tok2' })).status).toBe(200);
    expect((await client.call('DELETE', `${SERVICES}/${id}`, { token: 'tok1' })).status).toBe(204);
  });

  // Runs after the test above, which left exactly one service in this process's catalog.
  it('reads, POST /discover and /api/v1/health need no token when only mutations are guarded', async () => {
    // A guarded registry of its own, holding exactly one service.
    const guarded = await startRegistry({ nats: main.nats, env: { BEACON_AUTH_TOKEN: 'tok1,tok2' } });
    try {
      const one = await registerOn(guarded, 'tok1');
      expect(one.status, one.text).toBe(201);
      const client = new Client(guarded.api.url);
      expect(await client.count()).toBe(1);
      expect((await client.call('GET', `${SERVICES}/types`)).status).toBe(200);
      const discover = await client.call('POST', `${SERVICES}/discover`, { json: {} });
      expect(discover.status, discover.text).toBe(200);
      expect((discover.body as WireDiscover).total).toBe(1);
      expect((await client.call('GET', '/api/v1/health')).status).toBe(200);
    } finally {
      await guarded.dispose();
    }
  });

  it('BEACON_AUTH_READS=true guards reads too; health stays open', async () => {
    const client = new Client(readsApp.api.url);
    expectError(await client.call('GET', SERVICES), 401, 'token');
    expectError(await client.call('GET', `${SERVICES}/types`), 401);
    expectError(await client.call('POST', `${SERVICES}/discover`, { json: {} }), 401);
    expectError(await client.call('GET', SERVICES, { token: 'wrong' }), 401);
    const withToken = await client.call('GET', SERVICES, { token: 'tok1' });
    expect(withToken.status, withToken.text).toBe(200);
    expect((withToken.body as { total: number }).total).toBe(0);
    expect((await client.call('GET', '/api/v1/health')).status).toBe(200);
    expect((await client.call('GET', '/api/v1/live')).status).toBe(200);
  });

  it('SERVICE_DISCOVERY_SECRET works as the token (alias)', async () => {
    expectError(await registerOn(aliasApp, null), 401);
    expectError(await registerOn(aliasApp, 'tok1'), 401);
    const ok = await registerOn(aliasApp, 's3');
    expect(ok.status, ok.text).toBe(201);
    expect(await new Client(aliasApp.api.url).count()).toBe(1);
  });
});
