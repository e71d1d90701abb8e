import type { DiscoveryInstance, DiscoveryInstancesResponse, DiscoveryServicesResponse, Service } from '@beacon/contracts';
import {
  EventRecorder,
  sleep,
  startApp,
  startRegistry,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failing, healthy, startHealthTarget, type HealthTarget } from './health-target';
import { Client, expectError, type HttpResult, type WireList } from './rest-helpers';

/**
 * Seed 004's `/v1/discovery` routes against real processes: registry-api on an SQLite
 * file, nats-server, and health-prober checking local health endpoints. Configured with
 * seed 004's own variable names (SERVICE_REGISTRATION_TTL_SECONDS, HEALTH_CHECK_*).
 */

interface Event {
  type: string;
  revision: number;
  service: Service;
  load?: number;
}

const RUN = randomUUID().slice(0, 8);
let counter = 0;
const unique = (prefix: string): string => `${prefix}-${RUN}-${++counter}`;

const V1 = '/v1/discovery';
const SECRET = 'seed-004-secret';

let registry: RegistryFixture;
let secured: RegistryFixture;
let prober: AppProcess;
let api: Client;
let events: EventRecorder<Event>;
const targets: HealthTarget[] = [];

beforeAll(async () => {
  const start = (env: Record<string, string> = {}, nats?: NatsServerHandle): Promise<RegistryFixture> =>
    startRegistry({
      nats,
      env: {
        SERVICE_REGISTRATION_TTL_SECONDS: '120',
        HEALTH_CHECK_INTERVAL_SECONDS: '1',
        HEALTH_CHECK_TIMEOUT_SECONDS: '2',
        CRITICAL_LOAD_THRESHOLD: '0.8',
        ...env,
      },
    });
  // The first owns the nats-server; the secured one shares it.
  registry = await start();
  events = await EventRecorder.start<Event>(registry.nats.url, 'beacon.events.service.>');
  secured = await start({ SERVICE_DISCOVERY_SECRET: SECRET }, registry.nats);
  api = new Client(registry.api.url);
  for (let index = 0; index < 3; index += 1) targets.push(await startHealthTarget());
});

afterAll(async () => {
  await prober?.stop();
  await secured?.dispose();
  await events?.close();
  await registry?.dispose();
  await Promise.all(targets.map((target) => target.close()));
});

/** Seed 004's registration example, with this run's names. */
function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service_name: unique('my-service'),
    instance_id: 'instance-1',
    host: 'localhost',
    port: 8080,
    health_endpoint: '/health',
    metadata: { version: '1.0.0' },
    ...overrides,
  };
}

async function register(payload: Record<string, unknown>, client = api): Promise<DiscoveryInstance> {
  const result = await client.call('POST', `${V1}/register`, { json: payload });
  expect(result.status, result.text).toBe(200);
  return result.body as DiscoveryInstance;
}

async function instancesOf(name: string, healthyOnly = false): Promise<DiscoveryInstance[]> {
  const result = await api.call('GET', `${V1}/services/${encodeURIComponent(name)}${healthyOnly ? '/healthy' : ''}`);
  expect(result.status, result.text).toBe(200);
  const listing = result.body as DiscoveryInstancesResponse;
  expect(listing.service_name).toBe(name);
  expect(listing.total).toBe(listing.instances.length);
  return listing.instances;
}

const eventsFor = (serviceId: string): Event[] =>
  events.messages.filter((message) => message.data.service?.service_id === serviceId).map((message) => message.data);

const eventTypes = async (serviceId: string, count: number): Promise<string[]> =>
  (await waitFor(`${count} events for ${serviceId}`, () => (eventsFor(serviceId).length >= count ? eventsFor(serviceId) : undefined))).map(
    (event) => event.type,
  );

describe('POST /v1/discovery/register', () => {
  it("stores seed 004's example as a catalog record: on /api/v1, in a registered event, with the seed's env defaults", async () => {
    const payload = body();
    const instance = await register(payload);
    expect(instance).toMatchObject({
      service_name: payload.service_name,
      instance_id: 'instance-1',
      host: 'localhost',
      port: 8080,
      health_endpoint: '/health',
      health_check_url: 'http://localhost:8080/health',
      metadata: { version: '1.0.0' },
      status: 'active',
      health: 'unknown',
      healthy: false,
      load_percentage: null,
      ttl: 120, // SERVICE_REGISTRATION_TTL_SECONDS
    });
    expect(instance.service_id).toMatch(/^[0-9a-f-]{36}$/);
    const listed = await api.list(`?name=${String(payload.service_name)}`);
    expect(listed.total).toBe(1);
    expect(listed.services[0]).toMatchObject({
      service_id: instance.service_id,
      name: payload.service_name,
      instance_id: 'instance-1',
      type: 'http',
      version: '1.0.0',
      health_check_url: 'http://localhost:8080/health',
      health_check_interval: 1, // HEALTH_CHECK_INTERVAL_SECONDS
      health_check_timeout: 2, // HEALTH_CHECK_TIMEOUT_SECONDS
    });
    expect(await eventTypes(instance.service_id, 1)).toEqual(['service.registered']);
    expect(eventsFor(instance.service_id)[0]?.service.instance_id).toBe('instance-1');
  });

  it('updates the same record when the same service_name + instance_id registers again', async () => {
    const payload = body();
    const first = await register(payload);
    const again = await register({ ...payload, host: '10.1.2.3', port: 9090, metadata: { version: '1.1.0' } });
    expect(again.service_id).toBe(first.service_id);
    expect(again).toMatchObject({
      host: '10.1.2.3',
      port: 9090,
      metadata: { version: '1.1.0' },
      health_check_url: 'http://10.1.2.3:9090/health',
    });
    expect(again.registered_at).toBe(first.registered_at);
    expect((await api.list(`?name=${String(payload.service_name)}`)).total).toBe(1);
    expect(await eventTypes(first.service_id, 2)).toEqual(['service.registered', 'service.updated']);
    const other = await register({ ...payload, instance_id: 'instance-2', port: 9091 });
    expect(other.service_id).not.toBe(first.service_id);
    expect((await instancesOf(payload.service_name as string)).map((instance) => instance.instance_id)).toEqual([
      'instance-1',
      'instance-2',
    ]);
    // Beacon's endpoint rule: a new instance_id at a registered (name, host, port) takes that
    // record over (a restarted container with a fresh id), instead of listing the address twice.
    const takeover = await register({ ...payload, instance_id: 'instance-3', port: 9091 });
    expect(takeover.service_id).toBe(other.service_id);
    expect((await instancesOf(payload.service_name as string)).map((instance) => instance.instance_id)).toEqual([
      'instance-1',
      'instance-3',
    ]);
    expect(await eventTypes(other.service_id, 2)).toEqual(['service.registered', 'service.updated']);
  });

  it('takes health_endpoint and metadata as optional; without a check the instance is healthy while active', async () => {
    const payload = body();
    delete payload.health_endpoint;
    delete payload.metadata;
    const instance = await register(payload);
    expect(instance).toMatchObject({ health_endpoint: null, health_check_url: null, metadata: {}, healthy: true });
    expect((await instancesOf(payload.service_name as string, true)).map((each) => each.service_id)).toEqual([instance.service_id]);
    const nulls = await register({ ...body(), health_endpoint: null, metadata: null });
    expect([nulls.health_check_url, nulls.metadata]).toEqual([null, {}]);
  });

  it('brackets an IPv6 host in the health check URL', async () => {
    const instance = await register(body({ host: '::1', port: 9000, health_endpoint: '/healthz?deep=1' }));
    expect(instance.health_check_url).toBe('http://[::1]:9000/healthz?deep=1');
    expect(instance.health_endpoint).toBe('/healthz?deep=1');
  });

  it('accepts the port as a digit string, as the original (Pydantic) did', async () => {
    expect((await register(body({ port: '8081' }))).port).toBe(8081);
  });

  describe('rejects bad input with a 400 naming the field, and stores nothing', () => {
    const cases: [string, (payload: Record<string, unknown>) => void, string][] = [
      ['missing service_name', (p) => delete p.service_name, 'service_name'],
      ['missing instance_id', (p) => delete p.instance_id, 'instance_id'],
      ['missing host', (p) => delete p.host, 'host'],
      ['missing port', (p) => delete p.port, 'port'],
      ['service_name a number', (p) => (p.service_name = 5), 'service_name'],
      ['port not a number', (p) => (p.port = 'eighty'), 'port'],
      ['port 0', (p) => (p.port = 0), 'port'],
      ['port 65536', (p) => (p.port = 65536), 'port'],
      ['port 80.5', (p) => (p.port = 80.5), 'port'],
      ['host a URL', (p) => (p.host = 'http://localhost:8080'), 'host'],
      ['blank service_name', (p) => (p.service_name = '   '), 'service_name'],
      ['instance_id a number', (p) => (p.instance_id = 1), 'instance_id'],
      ['metadata values not strings', (p) => (p.metadata = { replicas: 3 }), 'metadata'],
      ['metadata an array', (p) => (p.metadata = ['a']), 'metadata'],
      ['health_endpoint without a leading slash', (p) => (p.health_endpoint = 'health'), 'health_endpoint'],
      ['health_endpoint a full URL', (p) => (p.health_endpoint = 'http://evil/health'), 'health_endpoint'],
      ['health_endpoint with a space', (p) => (p.health_endpoint = '/he alth'), 'health_endpoint'],
      ['an unknown field', (p) => (p.weight = 5), 'weight'],
      ['a seed 000 field', (p) => (p.ttl = 30), 'ttl'],
      ['an operator for service_name', (p) => (p.service_name = { $ne: null }), 'service_name'],
      ['an operator for instance_id', (p) => (p.instance_id = { $gt: '' }), 'instance_id'],
    ];
    it.each(cases)('%s', async (_label, spoil, field) => {
      const marker = unique('bad');
      const payload = body({ instance_id: marker });
      spoil(payload);
      const result = await api.call('POST', `${V1}/register`, { json: payload });
      const error = expectError(result, 400, field);
      expect(
        error.errors?.some((each) => each.field === field || each.field.startsWith(`${field}.`)),
        result.text,
      ).toBe(true);
      const name = typeof payload.service_name === 'string' ? payload.service_name : '';
      if (name.trim()) expect((await api.list(`?name=${encodeURIComponent(name)}`)).total).toBe(0);
      const all = (await api.call('GET', `${V1}/services`)).body as DiscoveryServicesResponse;
      expect(
        Object.values(all.services)
          .flat()
          .some((instance) => instance.instance_id === marker),
      ).toBe(false);
      await sleep(50); // a quiet period: no event for a refused registration
      expect(events.messages.some((message) => message.data.service?.instance_id === marker)).toBe(false);
    });

    it('a body that is not an object', async () => {
      expectError(await api.call('POST', `${V1}/register`, { raw: '[1,2]', contentType: 'application/json' }), 400);
      expectError(await api.call('POST', `${V1}/register`, { raw: '{"service_name":', contentType: 'application/json' }), 400);
    });
  });
});

describe('records shared with /api/v1', () => {
  it('shows an /api/v1 registration with an instance_id on /v1/discovery, and not one without', async () => {
    const name = unique('api-v1');
    const created = await api.register({
      name,
      host: '10.0.0.9',
      port: 7000,
      instance_id: 'pod-a',
      health_check_url: 'http://example.com/h',
    });
    await api.register({ name, host: '10.0.0.9', port: 7001 });
    const instances = await instancesOf(name);
    expect(instances).toHaveLength(1);
    expect(instances[0]).toMatchObject({
      service_id: created.service_id,
      instance_id: 'pod-a',
      health_endpoint: null, // a URL elsewhere than host:port
      health_check_url: 'http://example.com/h',
    });
    const all = (await api.call('GET', `${V1}/services`)).body as DiscoveryServicesResponse;
    expect(all.services[name]?.map((instance) => instance.service_id)).toEqual([created.service_id]);
    expect(all.total_services).toBe(Object.keys(all.services).length);
    expect(all.total_instances).toBe(Object.values(all.services).flat().length);
    const names = Object.keys(all.services);
    expect(names).toEqual([...names].sort());
  });

  it('answers 200 with no instances for a service nobody registered', async () => {
    expect(await instancesOf(unique('nobody'))).toEqual([]);
    expect(await instancesOf(unique('nobody'), true)).toEqual([]);
  });
});

describe('POST /v1/discovery/heartbeat', () => {
  it('renews the instance like PUT /api/v1/services/{id}/heartbeat (expires_at moves, a renewed event)', async () => {
    const payload = body();
    const instance = await register(payload);
    // The heartbeat must land on a later millisecond than the registration for the times to move.
    await waitFor('the clock past the registration', () => Date.now() > Date.parse(instance.last_heartbeat as string) + 1);
    const result = await api.call('POST', `${V1}/heartbeat`, { json: { service_name: payload.service_name, instance_id: 'instance-1' } });
    expect(result.status, result.text).toBe(200);
    const beat = result.body as Record<string, string>;
    expect(beat).toMatchObject({
      message: 'Heartbeat received successfully',
      service_id: instance.service_id,
      service_name: payload.service_name,
      instance_id: 'instance-1',
      status: 'active',
    });
    expect(Date.parse(beat.expires_at as string)).toBeGreaterThan(Date.parse(instance.expires_at));
    expect(Date.parse(beat.last_heartbeat as string)).toBeGreaterThan(Date.parse(instance.last_heartbeat as string));
    expect((await api.getService(instance.service_id)).expires_at).toBe(beat.expires_at);
    expect(await eventTypes(instance.service_id, 2)).toEqual(['service.registered', 'service.renewed']);
  });

  it('answers 404 naming the instance when it is not registered', async () => {
    const name = unique('ghost');
    const result = await api.call('POST', `${V1}/heartbeat`, { json: { service_name: name, instance_id: 'i-9' } });
    expectError(result, 404, name, 'i-9');
  });

  it('validates its body', async () => {
    expectError(await api.call('POST', `${V1}/heartbeat`, { json: { service_name: 'x' } }), 400, 'instance_id');
    expectError(await api.call('POST', `${V1}/heartbeat`, { json: { service_name: 'x', instance_id: 'y', ttl: 5 } }), 400, 'ttl');
    expectError(await api.call('POST', `${V1}/heartbeat`, { json: { service_name: { $ne: '' }, instance_id: 'y' } }), 400, 'service_name');
  });
});

describe('DELETE /v1/discovery/unregister/{service_name}/{instance_id}', () => {
  it('removes the instance (200 with a body, a deregistered event); 404 afterwards, 410 to its heartbeat (a tombstone)', async () => {
    const payload = body();
    const instance = await register(payload);
    const path = `${V1}/unregister/${String(payload.service_name)}/instance-1`;
    const result = await api.call('DELETE', path);
    expect(result.status, result.text).toBe(200);
    expect(result.body).toEqual({
      message: 'Service unregistered successfully',
      service_id: instance.service_id,
      service_name: payload.service_name,
      instance_id: 'instance-1',
    });
    expect(await instancesOf(payload.service_name as string)).toEqual([]);
    expect((await api.call('GET', `/api/v1/services/${instance.service_id}`)).status).toBe(404);
    expect(await eventTypes(instance.service_id, 2)).toEqual(['service.registered', 'service.deregistered']);
    expectError(await api.call('DELETE', path), 404, 'instance-1', payload.service_name as string);
    // An operator unregistered it: its heartbeat is told so (410), not that it is unknown (404).
    const beat = await api.call('POST', `${V1}/heartbeat`, { json: { service_name: payload.service_name, instance_id: 'instance-1' } });
    expectError(
      beat,
      410,
      instance.service_id,
      'was deregistered at',
      `DELETE /v1/discovery/unregister/${String(payload.service_name)}/instance-1`,
    );
  });

  it('answers 404 for an unknown instance of a known service', async () => {
    const payload = body();
    await register(payload);
    expectError(await api.call('DELETE', `${V1}/unregister/${String(payload.service_name)}/instance-404`), 404, 'instance-404');
    expect(await instancesOf(payload.service_name as string)).toHaveLength(1);
  });
});

describe('path parameters at the field limits', () => {
  const unregisterLongest = async (length: number): Promise<void> => {
    const instanceId = 'i'.repeat(length);
    const name = `${unique('é')}-${'é'.repeat(60)}`;
    const instance = await register(body({ service_name: name, instance_id: instanceId }));
    expect((await instancesOf(name)).map((each) => each.service_id)).toEqual([instance.service_id]);
    const result = await api.call('DELETE', `${V1}/unregister/${encodeURIComponent(name)}/${instanceId}`);
    expect(result.status, result.text).toBe(200);
  };

  it('unregisters a 100-character instance_id of a non-ASCII service_name', () => unregisterLongest(100));

  // Register takes instance ids up to LIMITS.instanceId.max (128); Fastify's router refused
  // path parameters over 100 characters (a 414) until createHttpApp raised maxParamLength.
  it('unregisters a 128-character instance_id of a non-ASCII service_name', () => unregisterLongest(128));
});

describe('auth with SERVICE_DISCOVERY_SECRET', () => {
  it('needs the bearer secret for writes and leaves reads open', async () => {
    const open = new Client(secured.api.url);
    const authed = open.withToken(SECRET);
    const payload = body();
    const statusOf = (result: HttpResult): number => result.status;
    expect(statusOf(await open.call('POST', `${V1}/register`, { json: payload }))).toBe(401);
    expect(statusOf(await open.withToken('wrong').call('POST', `${V1}/register`, { json: payload }))).toBe(401);
    expect((await open.list(`?name=${String(payload.service_name)}`)).total).toBe(0);
    await register(payload, authed);
    const beat = { service_name: payload.service_name, instance_id: 'instance-1' };
    expect(statusOf(await open.call('POST', `${V1}/heartbeat`, { json: beat }))).toBe(401);
    expect(statusOf(await authed.call('POST', `${V1}/heartbeat`, { json: beat }))).toBe(200);
    const path = `${V1}/unregister/${String(payload.service_name)}/instance-1`;
    expect(statusOf(await open.call('DELETE', path))).toBe(401);
    // Seed 004's discover snippet sends no header.
    for (const read of [
      `${V1}/services`,
      `${V1}/services/${String(payload.service_name)}`,
      `${V1}/services/${String(payload.service_name)}/healthy`,
    ]) {
      expect(statusOf(await open.call('GET', read)), read).toBe(200);
    }
    expect(statusOf(await open.call('GET', '/api/v1/stats'))).toBe(200);
    expect(statusOf(await authed.call('DELETE', path))).toBe(200);
  });
});

describe('GET /v1/discovery/services/{service_name}/healthy with health-prober', () => {
  it('lists instances whose last check passed under the critical load; a loaded or failing one drops out', async () => {
    prober = await startApp('health-prober', {
      env: { NATS_URL: registry.nats.url, BEACON_RESYNC_INTERVAL: '2' },
      portVariable: 'HTTP_PORT',
    });
    const name = unique('checked');
    const [a, b, c] = targets as [HealthTarget, HealthTarget, HealthTarget];
    a.set('/health', healthy(0.3));
    b.set('/health', healthy(0.3));
    c.set('/status', healthy(0.1));
    const register004 = (target: HealthTarget, instanceId: string, path = '/health') =>
      register({ service_name: name, instance_id: instanceId, host: target.host, port: target.port, health_endpoint: path });
    const ia = await register004(a, 'a');
    const ib = await register004(b, 'b');
    const ic = await register004(c, 'c', '/status');
    const healthyIds = async (): Promise<string[]> => (await instancesOf(name, true)).map((instance) => instance.instance_id);
    const settled = async (expected: string[], what: string): Promise<void> => {
      await waitFor(what, async () => JSON.stringify(await healthyIds()) === JSON.stringify(expected), 30_000, 200);
    };

    await settled(['a', 'b', 'c'], 'all three healthy after their first checks');
    const checked = await instancesOf(name);
    expect(checked.map((instance) => [instance.instance_id, instance.health, instance.load_percentage, instance.healthy])).toEqual([
      ['a', 'healthy', 0.3, true],
      ['b', 'healthy', 0.3, true],
      ['c', 'healthy', 0.1, true],
    ]);

    b.set('/health', healthy(0.95));
    await settled(['a', 'c'], 'b out of /healthy at load 0.95');
    const loaded = (await instancesOf(name)).find((instance) => instance.instance_id === 'b');
    expect(loaded).toMatchObject({ status: 'active', health: 'healthy', load_percentage: 0.95, healthy: false });
    await waitFor('critical_load event for b', () => eventsFor(ib.service_id).some((event) => event.type === 'service.critical_load'));

    b.set('/health', healthy(0.3));
    await settled(['a', 'b', 'c'], 'b back under the threshold');

    a.set('/health', failing);
    await settled(['b', 'c'], 'a out of /healthy once its check fails');
    const down = await waitFor(
      'a unhealthy after its retries',
      async () => {
        const found = (await instancesOf(name)).find((instance) => instance.instance_id === 'a');
        return found?.status === 'unhealthy' ? found : undefined;
      },
      30_000,
      200,
    );
    expect(down).toMatchObject({ health: 'unhealthy', healthy: false });
    // Everything the prober did shows on /api/v1 too: the same records.
    const viaApi = (await api.call('GET', `/api/v1/services?name=${name}`)).body as WireList;
    expect(viaApi.services.map((service) => [service.service_id, service.health])).toEqual([
      [ia.service_id, 'unhealthy'],
      [ib.service_id, 'healthy'],
      [ic.service_id, 'healthy'],
    ]);
  }, 150_000);
});

describe('OpenAPI', () => {
  it('documents the /v1/discovery routes with their bodies and answers', async () => {
    const document = (await api.call('GET', '/api/docs-json')).body as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    for (const path of [
      '/v1/discovery/register',
      '/v1/discovery/heartbeat',
      '/v1/discovery/unregister/{service_name}/{instance_id}',
      '/v1/discovery/services',
      '/v1/discovery/services/{service_name}',
      '/v1/discovery/services/{service_name}/healthy',
      '/api/v1/stats',
    ]) {
      expect(document.paths, path).toHaveProperty([path]);
    }
    expect(document.paths['/v1/discovery/register']?.post?.requestBody).toBeDefined();
    expect(Object.keys(document.paths['/v1/discovery/register']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400']));
    const register = document.components.schemas.DiscoveryRegisterDto;
    expect(Object.keys(register?.properties ?? {}).sort()).toEqual(
      ['health_endpoint', 'host', 'instance_id', 'metadata', 'port', 'service_name'].sort(),
    );
    expect(document.components.schemas).toHaveProperty('DiscoveryInstance');
    expect(document.components.schemas).toHaveProperty('RegistryStats');
  });
});
