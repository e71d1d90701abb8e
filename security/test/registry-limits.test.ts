import { fetchJson, sleep, startApp, startRegistry, uniqueName, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13 item 9 and item 6's per-client limit: what any client can make registry-api
 * hold or do, against real registry-api processes (SQLite files, nats-server), with curl
 * as the client. `limited` counts registrations and on-demand checks per client and trusts
 * `X-Forwarded-For` from loopback (the default: nginx on the same host); `capped` holds a
 * small catalog, small per-service limits, and trusts no proxy header.
 */

interface CurlAnswer {
  status: number;
  headers: Record<string, string>;
  body: { detail?: string; errors?: { field: string; message: string }[]; service_id?: string; total?: number } & Record<string, unknown>;
}

/** One request with curl, as a shell script would send it: status, headers and the JSON body. */
function curl(method: string, url: string, json?: unknown, headers: Record<string, string> = {}): Promise<CurlAnswer> {
  const args = ['-s', '-i', '-X', method, url];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  if (json !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(json));
  return new Promise((resolve, reject) => {
    execFile('curl', args, { encoding: 'utf8' }, (error, stdout) => {
      if (error) return reject(new Error(`curl ${method} ${url} failed: ${error.message}`));
      const split = stdout.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = stdout.slice(0, split).split('\r\n');
      const text = stdout.slice(split + 4);
      const parsedHeaders = Object.fromEntries(
        headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      let body: CurlAnswer['body'];
      try {
        body = text ? (JSON.parse(text) as CurlAnswer['body']) : {};
      } catch {
        body = { detail: text };
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers: parsedHeaders, body });
    });
  });
}

const registration = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: uniqueName('limits'),
  host: '10.20.0.1',
  port: 1 + Math.floor(Math.random() * 60000),
  ...overrides,
});

/** Registrations the catalog holds under a name prefix. */
async function countNamed(base: string, name: string): Promise<number> {
  const answer = await fetchJson<{ total: number }>('GET', `${base}/services?name=${encodeURIComponent(name)}`);
  return answer.body.total;
}

let limited: RegistryFixture;
let capped: RegistryFixture;
let prober: AppProcess;
let target: Server;
let targetPort = 0;

beforeAll(async () => {
  target = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as { port: number }).port;
  [limited, capped] = await Promise.all([
    startRegistry({ env: { BEACON_REGISTRATIONS_PER_SECOND: '5', BEACON_ON_DEMAND_CHECKS_PER_MINUTE: '3' } }),
    startRegistry({
      env: {
        BEACON_MAX_SERVICES: '5',
        BEACON_MAX_TAGS: '4',
        BEACON_MAX_METADATA_KEYS: '3',
        BEACON_REGISTRATIONS_PER_SECOND: '0',
        BEACON_ON_DEMAND_CHECKS_PER_MINUTE: '1',
        BEACON_TRUST_PROXY: 'none',
      },
    }),
  ]);
  prober = await startApp('health-prober', {
    env: { NATS_URL: limited.nats.url, BEACON_RESYNC_INTERVAL: '1' },
    portVariable: 'HTTP_PORT',
  });
});

afterAll(async () => {
  await prober?.stop();
  await Promise.all([limited?.dispose(), capped?.dispose()]);
  await new Promise((resolve) => target?.close(resolve));
});

describe('registrations per client (BEACON_REGISTRATIONS_PER_SECOND)', () => {
  it('a flood from one client gets 429 with Retry-After; what was refused stored nothing; heartbeats stay unlimited', async () => {
    const name = uniqueName('flood');
    const bodies = Array.from({ length: 40 }, (_, index) => registration({ name, port: index + 1 }));
    const answers = await Promise.all(bodies.map((body) => curl('POST', `${limited.base}/services/register`, body)));
    const created = answers.filter((answer) => answer.status === 201);
    const refused = answers.filter((answer) => answer.status === 429);
    // Each accepted one is a record (and an event): that is what a flood would pile up.
    expect(created.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(created.length + refused.length).toBe(bodies.length);
    for (const answer of refused) {
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(answer.body.detail).toMatch(
        /^Too many registrations from this client: at most 5 per second \(BEACON_REGISTRATIONS_PER_SECOND\); retry in \d+ s$/,
      );
    }
    expect(await countNamed(limited.base, name)).toBe(created.length);

    // Renewals are never limited: the same client keeps all its services alive meanwhile.
    const first = created[0]?.body.service_id as string;
    const renewals = await Promise.all(Array.from({ length: 30 }, () => curl('PUT', `${limited.base}/services/${first}/heartbeat`)));
    expect(renewals.map((answer) => answer.status)).toEqual(renewals.map(() => 200));

    // A client that waits as told gets through.
    await sleep(Number(refused[0]?.headers['retry-after']) * 1000);
    expect((await curl('POST', `${limited.base}/services/register`, registration({ name }))).status).toBe(201);
  });

  it("seed 004's /v1/discovery/register is limited the same way", async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        curl('POST', `${limited.api.url}/v1/discovery/register`, {
          service_name: uniqueName('v1-flood'),
          instance_id: `i-${index}`,
          host: '10.20.0.2',
          port: 80,
        }),
      ),
    );
    const statuses = new Set(answers.map((answer) => answer.status));
    expect([...statuses].sort()).toEqual([200, 429]);
  });

  it('counts each client behind the trusted proxy on its own; the header is ignored from anyone else', async () => {
    // Exhaust the budget of 198.51.100.7 as nginx on loopback would forward it.
    const viaProxy = (client: string) => curl('POST', `${limited.base}/services/register`, registration(), { 'X-Forwarded-For': client });
    const burst = await Promise.all(Array.from({ length: 30 }, () => viaProxy('198.51.100.7')));
    expect(burst.some((answer) => answer.status === 429)).toBe(true);
    // Another client behind the same proxy still has its own budget.
    expect((await viaProxy('198.51.100.8')).status).toBe(201);

    // Where no proxy is trusted, a forged header buys no fresh budget (capped allows 1 check a minute).
    const service = await capped.register(registration());
    const check = (client: string) =>
      curl('POST', `${capped.base}/services/${service.service_id}/health-check`, undefined, { 'X-Forwarded-For': client });
    const firstCheck = await check('203.0.113.1');
    expect(firstCheck.status).not.toBe(429);
    const forged = await check('203.0.113.2');
    expect(forged.status).toBe(429);
    expect(forged.body.detail).toMatch(/at most 1 per minute \(BEACON_ON_DEMAND_CHECKS_PER_MINUTE\)/);
  });
});

describe('on-demand checks per client (BEACON_ON_DEMAND_CHECKS_PER_MINUTE)', () => {
  it('each check makes health-prober connect where the registrant says; past the limit the client gets 429', async () => {
    // From a client of its own: the tests above spent loopback's registration budget.
    const registered = await curl(
      'POST',
      `${limited.base}/services/register`,
      registration({ health_check_tcp: `127.0.0.1:${targetPort}`, health_check_interval: 3600 }),
      { 'X-Forwarded-For': '192.0.2.253' },
    );
    expect(registered.status).toBe(201);
    const service = registered.body as { service_id: string };
    const url = `${limited.base}/services/${service.service_id}/health-check`;
    // The prober learns of the service from the catalog within a resync; until then the check is a 503/404.
    // Each attempt comes from another client, so none of them spends the budget tried below.
    let client = 1;
    const first = await waitFor(
      'health-prober to check the service',
      async () => {
        const answer = await curl('POST', url, undefined, { 'X-Forwarded-For': `192.0.2.${client++}` });
        return answer.status === 200 ? answer : false;
      },
      20_000,
      250,
    );
    // A check reaches a port of the registrant's choosing: a port scanner for anyone who can call it.
    expect((first.body.result as { kind: string }).kind).toBe('tcp');
    const scanner = '192.0.2.254';
    const answers = [];
    for (let index = 0; index < 5; index += 1) answers.push(await curl('POST', url, undefined, { 'X-Forwarded-For': scanner }));
    expect(answers.slice(0, 3).map((answer) => answer.status)).toEqual([200, 200, 200]);
    for (const answer of answers.slice(3)) {
      expect(answer.status).toBe(429);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(answer.body.detail).toMatch(
        /^Too many on-demand health checks from this client: at most 3 per minute \(BEACON_ON_DEMAND_CHECKS_PER_MINUTE\); retry in \d+ s$/,
      );
    }
  });
});

describe('catalog size (BEACON_MAX_SERVICES)', () => {
  it('refuses a new service when full with 429 naming the limit; re-registrations, heartbeats and updates still work', async () => {
    const existing = await fetchJson<{ total: number }>('GET', `${capped.base}/services`);
    const room = 5 - existing.body.total;
    const name = uniqueName('fill');
    const kept = [];
    for (let port = 1; port <= room; port += 1) kept.push(await capped.register(registration({ name, port })));
    const full = await curl('POST', `${capped.base}/services/register`, registration({ name, port: 999 }));
    expect(full.status).toBe(429);
    expect(full.body.detail).toMatch(/^The catalog is full: it holds 5 services \(BEACON_MAX_SERVICES\)/);
    const v1 = await curl('POST', `${capped.api.url}/v1/discovery/register`, {
      service_name: name,
      instance_id: 'one-more',
      host: '10.20.0.3',
      port: 80,
    });
    expect(v1.status).toBe(429);
    expect((await fetchJson<{ total: number }>('GET', `${capped.base}/services`)).body.total).toBe(5);

    // The fleet already registered keeps working: re-registering is no new record.
    const again = await curl('POST', `${capped.base}/services/register`, registration({ name, port: 1, tags: ['again'] }));
    expect(again.status).toBe(201);
    expect(again.body.service_id).toBe(kept[0]?.service_id);
    expect((await curl('PUT', `${capped.base}/services/${kept[0]?.service_id}/heartbeat`)).status).toBe(200);

    // Room again once one leaves.
    expect((await curl('DELETE', `${capped.base}/services/${kept[1]?.service_id}`)).status).toBe(204);
    expect((await curl('POST', `${capped.base}/services/register`, registration({ name, port: 999 }))).status).toBe(201);
  });
});

describe('tags and metadata keys per service (BEACON_MAX_TAGS, BEACON_MAX_METADATA_KEYS)', () => {
  it('refuses more than configured with a 400 naming the field, on every route that sets them; nothing changes', async () => {
    const tags = ['a', 'b', 'c', 'd', 'e'];
    const metadata = { k1: 'v', k2: 'v', k3: 'v', k4: 'v' };
    // Within the contract's ceiling (64), so the defaults take it: the deployment's limit is what refuses it here.
    const accepted = await curl('POST', `${limited.base}/services/register`, registration({ tags, metadata }), {
      'X-Forwarded-For': '192.0.2.77',
    });
    expect(accepted.status).toBe(201);

    const tooManyTags = await curl('POST', `${capped.base}/services/register`, registration({ tags }));
    expect(tooManyTags.status).toBe(400);
    expect(tooManyTags.body.errors).toEqual([{ field: 'tags', message: 'must have at most 4 tags here (BEACON_MAX_TAGS), got 5' }]);
    expect(tooManyTags.body.detail).toContain('tags: must have at most 4 tags');

    const current = await fetchJson<{ services: { service_id: string; metadata: Record<string, string> }[] }>(
      'GET',
      `${capped.base}/services?limit=1`,
    );
    const victim = current.body.services[0];
    const update = await curl('PUT', `${capped.base}/services/${victim?.service_id}`, { metadata });
    expect(update.status).toBe(400);
    expect(update.body.errors).toEqual([{ field: 'metadata', message: 'must have at most 3 keys here (BEACON_MAX_METADATA_KEYS), got 4' }]);
    const after = await fetchJson<{ metadata: Record<string, string> }>('GET', `${capped.base}/services/${victim?.service_id}`);
    expect(after.body.metadata).toEqual(victim?.metadata);

    const v1 = await curl('POST', `${capped.api.url}/v1/discovery/register`, {
      service_name: uniqueName('v1'),
      instance_id: 'x',
      host: '10.20.0.4',
      port: 80,
      metadata,
    });
    expect(v1.status).toBe(400);
    expect(v1.body.errors?.[0]?.field).toBe('metadata');
  });
});
