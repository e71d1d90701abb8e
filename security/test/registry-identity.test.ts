import { Subjects, type NatsIdentity, type Service } from '@beacon/contracts';
import {
  fetchJson,
  startNatsServer,
  startRegistry,
  uniqueName,
  waitFor,
  type JsonResponse,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13 item 7 (identity and names) and item 1's purge cutoff, against a real
 * registry-api on a real SQLite file over Beacon's permissioned nats-server. Each attack
 * is shown to matter, then refused with a 4xx naming the field, changing nothing.
 */

interface ErrorBody {
  detail: string;
  errors?: { field: string; message: string }[];
}

let nats: NatsServerHandle;
let registry: RegistryFixture;
/** Registered first with the shortest TTL: expired by the time the purge test runs. */
let shortLived: Service;

const as = (identity: NatsIdentity): Record<string, string> => {
  const { NATS_USER, NATS_PASSWORD_FILE } = nats.identities?.[identity] ?? { NATS_USER: '', NATS_PASSWORD_FILE: '' };
  return { NATS_USER, NATS_PASSWORD_FILE };
};

const post = <T = ErrorBody>(path: string, body: unknown): Promise<JsonResponse<T>> =>
  fetchJson<T>('POST', `${registry.api.url}${path}`, body);

const registration = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: uniqueName('identity'),
  host: '10.30.0.1',
  port: 1 + Math.floor(Math.random() * 60000),
  ...overrides,
});

const named = async (name: string): Promise<number> =>
  (await fetchJson<{ total: number }>('GET', `${registry.base}/services?name=${encodeURIComponent(name)}`)).body.total;

/** A refusal: 400, naming `field` (in `errors` and in `detail`), and nothing stored under `name`. */
async function expectRefused(answer: JsonResponse<ErrorBody>, field: string, reason: RegExp, name?: string): Promise<void> {
  expect(answer.status, answer.text).toBe(400);
  expect(answer.body.errors?.map((error) => error.field)).toEqual([field]);
  expect(answer.body.errors?.[0]?.message).toMatch(reason);
  expect(answer.body.detail).toContain(`${field}: `);
  if (name !== undefined) expect(await named(name)).toBe(0);
}

beforeAll(async () => {
  nats = await startNatsServer({ auth: true });
  registry = await startRegistry({ nats, env: as('registry-api') });
  shortLived = await registry.register({ name: uniqueName('short-lived'), ttl: 10 });
});

afterAll(async () => {
  await registry?.dispose();
  await nats?.dispose();
});

describe('control characters in names, ids, tags and keys', () => {
  it.each([
    ['name', { name: 'a\u0000b' }],
    ['name', { name: 'svc\n{"level":60,"msg":"forged log line"}' }],
    ['name', { name: 'printer\u0085' }],
    ['instance_id', { instance_id: 'b\u0000c' }],
    ['type', { type: 'http\u007f' }],
    ['tags', { tags: ['prod', 'x\u001b[31m'] }],
    ['metadata', { metadata: { 'rack\u0000': 'r1' } }],
  ])('/api/v1 register: %s %j is a 400 naming the field; nothing is stored', async (field, patch) => {
    const body = registration(patch);
    await expectRefused(await post('/api/v1/services/register', body), field, /control characters/, String(body.name));
  });

  it('/v1/discovery (seed 004) applies the same rules to service_name, instance_id and metadata keys', async () => {
    const base = { service_name: uniqueName('v1'), instance_id: 'i-1', host: '10.30.0.2', port: 80 };
    await expectRefused(await post('/v1/discovery/register', { ...base, service_name: 'a\u0000b' }), 'service_name', /control/);
    await expectRefused(await post('/v1/discovery/register', { ...base, instance_id: 'b\u0000c' }), 'instance_id', /control/);
    await expectRefused(await post('/v1/discovery/register', { ...base, metadata: { 'k\n': 'v' } }), 'metadata', /control/);
    await expectRefused(await post('/v1/discovery/heartbeat', { service_name: 'a\u0000b', instance_id: 'c' }), 'service_name', /control/);
    expect((await fetchJson<{ total: number }>('GET', `${registry.api.url}/v1/discovery/services/${base.service_name}`)).body.total).toBe(
      0,
    );
  });

  it('an update cannot bring them in either', async () => {
    const victim = await registry.register(registration());
    const answer = await fetchJson<ErrorBody>('PUT', `${registry.base}/services/${victim.service_id}`, { name: 'a\u0000b' });
    await expectRefused(answer, 'name', /control characters/);
    expect((await fetchJson<Service>('GET', `${registry.base}/services/${victim.service_id}`)).body.name).toBe(victim.name);
  });
});

describe('invisible format characters and line separators in names, ids, tags and keys', () => {
  const FORMAT = /invisible format characters or line separators/;

  it.each([
    ['name', { name: 'a\u200bb' }],
    ['name', { name: 'x\u202ey' }],
    ['name', { name: 'svc\u2028' }],
    ['instance_id', { instance_id: 'i\u200b1' }],
    ['tags', { tags: ['prod', 'x\u202ey'] }],
    ['metadata', { metadata: { 'a\u200bb': 'r1' } }],
  ])('/api/v1 register: %s %j is a 400 naming the field; nothing is stored', async (field, patch) => {
    const body = registration(patch);
    await expectRefused(await post('/api/v1/services/register', body), field, FORMAT, String(body.name));
  });

  it('"a\u200bb" cannot sit beside "ab" looking the same; /v1/discovery and updates refuse it too', async () => {
    const visible = uniqueName('ab');
    const lookalike = `${visible.slice(0, 2)}\u200b${visible.slice(2)}`;
    await registry.register(registration({ name: visible }));
    await expectRefused(await post('/api/v1/services/register', registration({ name: lookalike })), 'name', FORMAT, lookalike);
    const v1 = { service_name: lookalike, instance_id: 'i-1', host: '10.30.0.3', port: 80 };
    await expectRefused(await post('/v1/discovery/register', v1), 'service_name', FORMAT);
    const victim = await registry.register(registration());
    const answer = await fetchJson<ErrorBody>('PUT', `${registry.base}/services/${victim.service_id}`, { name: 'x\u202ey' });
    await expectRefused(answer, 'name', FORMAT);
    // A value is free text: only names, ids, tags and keys are identities.
    const noted = await post<Service>('/api/v1/services/register', registration({ metadata: { note: 'x\u202ey' } }));
    expect(noted.status, noted.text).toBe(201);
  });
});

describe('index keys cannot collide', () => {
  it('records written before the rules (NUL in names, ids and keys) keep their own identities after a restart', async () => {
    const template = await registry.register(registration({ name: uniqueName('legacy'), instance_id: 'template' }));
    await registry.api.stop();
    // Rows as an older registry-api could have written them: joined with NUL, ("a", "b\0c") and ("a\0b", "c")
    // were one instance key, and metadata k="v\0w" and "k\0v"="w" were one pair.
    const prefix = uniqueName('nul');
    const rows = [
      { name: prefix, instance_id: 'b\u0000c', port: 11, metadata: {} },
      { name: `${prefix}\u0000b`, instance_id: 'c', port: 12, metadata: {} },
      { name: `${prefix}-meta`, instance_id: null, port: 13, metadata: { k: 'v\u0000w' } },
      { name: `${prefix}-meta`, instance_id: null, port: 14, metadata: { 'k\u0000v': 'w' } },
    ].map((row, index) => ({ ...template, ...row, service_id: randomUUID(), created_at: Date.parse(template.created_at) + index + 1 }));
    execFileSync(
      'python3',
      [
        '-c',
        `import json, sqlite3, sys
template = None
db = sqlite3.connect(sys.argv[1])
for (doc,) in db.execute('SELECT doc FROM service_docs'):
    record = json.loads(doc)
    if record['service_id'] == sys.argv[2]:
        template = record
for row in json.loads(sys.argv[3]):
    db.execute('INSERT INTO service_docs (doc) VALUES (?)', (json.dumps({**template, **row}),))
db.commit()`,
        registry.dbPath,
        template.service_id,
        JSON.stringify(
          rows.map(({ service_id, name, instance_id, port, metadata, created_at }) => ({
            service_id,
            name,
            instance_id,
            port,
            metadata,
            created_at,
          })),
        ),
      ],
      { stdio: 'pipe' },
    );
    await registry.restart(as('registry-api'));

    const v1 = await fetchJson<{ services: Record<string, { instance_id: string; service_id: string }[]> }>(
      'GET',
      `${registry.api.url}/v1/discovery/services`,
    );
    expect(v1.body.services[prefix]?.map((instance) => instance.service_id)).toEqual([rows[0]?.service_id]);
    expect(v1.body.services[`${prefix}\u0000b`]?.map((instance) => instance.service_id)).toEqual([rows[1]?.service_id]);

    const byMetadata = async (key: string, value: string): Promise<string[]> =>
      (
        await fetchJson<{ services: Service[] }>(
          'GET',
          `${registry.base}/services?name=${prefix}-meta&metadata.${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
        )
      ).body.services.map((service) => service.service_id);
    expect(await byMetadata('k', 'v\u0000w')).toEqual([rows[2]?.service_id]);
    expect(await byMetadata('k', 'v')).toEqual([]);
  });
});

describe("Beacon's own mDNS types are reserved", () => {
  it('a registrant picks the type it is announced under, but not _beacon._tcp or _beacon-server._tcp', async () => {
    // Registrants do choose what mdns-announcer announces them as:
    const chosen = await registry.register(registration({ mdns_service_type: '_printer._tcp' }));
    expect(chosen.mdns_service_type).toBe('_printer._tcp');
    for (const type of ['_beacon._tcp', '_beacon-server._tcp', '_beacon._udp']) {
      const body = registration({ mdns_service_type: type });
      const answer = await post('/api/v1/services/register', body);
      await expectRefused(answer, 'mdns_service_type', /is reserved: it is how devices and nodes find Beacon itself/, String(body.name));
    }
    const update = await fetchJson<ErrorBody>('PUT', `${registry.base}/services/${chosen.service_id}`, {
      mdns_service_type: '_beacon._tcp',
    });
    await expectRefused(update, 'mdns_service_type', /reserved/);
    expect((await fetchJson<Service>('GET', `${registry.base}/services/${chosen.service_id}`)).body.mdns_service_type).toBe(
      '_printer._tcp',
    );
  });

  it('nor is one derived from a service type named "beacon"', async () => {
    const derived = await registry.register(registration({ type: 'beacon' }));
    expect(derived.type).toBe('beacon');
    expect(derived.mdns_service_type).toBe('_service._tcp');
  });
});

describe('credentials in health_check_url', () => {
  it('are refused (the URL is shown to every reader), on registration and update alike', async () => {
    // What a registration stores is shown verbatim to anyone who can read the catalog:
    const plain = await registry.register(registration({ health_check_url: 'http://10.30.0.9:8080/health?probe=1' }));
    expect((await fetchJson<Service>('GET', `${registry.base}/services/${plain.service_id}`)).body.health_check_url).toBe(
      'http://10.30.0.9:8080/health?probe=1',
    );
    for (const url of ['http://admin:hunter2@10.30.0.9:8080/health', 'https://token@example.com/health']) {
      const body = registration({ health_check_url: url });
      const answer = await post('/api/v1/services/register', body);
      await expectRefused(
        answer,
        'health_check_url',
        /must not contain credentials .*shown to everyone who can read the catalog/,
        String(body.name),
      );
      expect(answer.text).not.toContain('hunter2');
    }
    const update = await fetchJson<ErrorBody>('PUT', `${registry.base}/services/${plain.service_id}`, {
      health_check_url: 'http://admin:hunter2@10.30.0.9:8080/health',
    });
    await expectRefused(update, 'health_check_url', /credentials/);
    expect((await fetchJson<Service>('GET', `${registry.base}/services/${plain.service_id}`)).body.health_check_url).toBe(
      'http://10.30.0.9:8080/health?probe=1',
    );
  });
});

describe('beacon.registry.purge', () => {
  it('a cutoff in the future removes only what has expired, never a live service', async () => {
    const name = uniqueName('live');
    const live = await Promise.all(Array.from({ length: 5 }, (_, port) => registry.register({ name, host: '10.30.0.5', port: port + 1 })));
    const olderThan = new Date(Date.now() + 10 * 365 * 86_400_000).toISOString();
    // Every live record expires before that cutoff: taken at its word, the purge would delete them all.
    for (const service of live) expect(Date.parse(service.expires_at)).toBeLessThan(Date.parse(olderThan));
    await waitFor('the short-lived service to expire', () => Date.now() > Date.parse(shortLived.expires_at) + 50, 15_000, 100);

    // Sent by the identity allowed to purge (ttl-reaper), as a real NATS request.
    const reaper = await connect({ servers: nats.url, ...nats.credentials('ttl-reaper') });
    try {
      const reply = await reaper.request(Subjects.registryPurge, new TextEncoder().encode(JSON.stringify({ older_than: olderThan })), {
        timeout: 5000,
      });
      const answer = JSON.parse(new TextDecoder().decode(reply.data)) as { removed: number };
      expect(answer.removed).toBe(1);
    } finally {
      await reaper.close();
    }
    expect((await fetchJson('GET', `${registry.base}/services/${shortLived.service_id}`)).status).toBe(404);
    for (const service of live) {
      const current = await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}`);
      expect(current.status).toBe(200);
      expect(current.body.status).toBe('active');
    }
    expect(await named(name)).toBe(5);
  });
});
