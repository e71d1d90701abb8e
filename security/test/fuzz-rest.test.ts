import type { Service } from '@beacon/contracts';
import { WsClient, fetchJson, startApp, startRegistry, uniqueName, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import fc from 'fast-check';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  WRONG_KIND,
  contentType,
  discoveryHeartbeatBody,
  discoveryRegisterBody,
  filterBody,
  hostileJsonBytes,
  incidentNoteBody,
  hostileKey,
  mutants,
  registrationBody,
  updateBody,
  urlComponent,
  uuid,
  webhookBody,
  withField,
  type Doc,
} from './support/arbitraries';

/**
 * Issue 13: "nothing any client sends can take a part down", at the REST edge. Generated
 * requests go to every route registry-api documents in its OpenAPI document (so a new
 * route is fuzzed with no edit here) and to realtime-gateway's HTTP, SSE and WebSocket
 * endpoints, as raw bytes over node:http: arbitrary JSON, near-valid mutants of real
 * bodies, invalid UTF-8, wrong content types, extreme numbers, deep nesting, hostile
 * paths and query strings. No answer is a 5xx (other than one the route documents, such
 * as the on-demand check's 503 with no prober), no process dies, and afterwards both
 * apps still serve a well-formed client.
 */

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface RawRequest {
  method: string;
  path: string;
  body?: Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * Request heads stay under Node's 16 KiB header limit: past it, Fastify answers 431 with a
 * body even to HEAD, which no client can parse (a wart, not a failure; see the oversized test).
 */
const MAX_PATH = 12_000;

/** One request as bytes on the wire; a stream (SSE) is answered by its status and left. */
function send(port: number, { method, path, body, contentType: type, headers = {} }: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({
      host: '127.0.0.1',
      port,
      method,
      path,
      agent: false,
      timeout: 15_000,
      headers: { ...headers, ...(type !== undefined ? { 'content-type': type } : {}), ...(body ? { 'content-length': body.length } : {}) },
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path.slice(0, 200)}: no answer in 15 s`)));
    outgoing.on('error', reject);
    outgoing.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (String(response.headers['content-type']).startsWith('text/event-stream')) {
        response.destroy();
        resolve({ status, headers: response.headers, text: '' });
        return;
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.end(body ? Buffer.from(body) : undefined);
  });
}

const describeRequest = (request: RawRequest): string =>
  `${request.method} ${request.path.slice(0, 300)} [${request.contentType ?? 'no content-type'}] ${
    request.body ? JSON.stringify(Buffer.from(request.body).toString('latin1').slice(0, 300)) : ''
  }`;

interface Route {
  method: string;
  template: string;
  operationId: string;
  /** Request body schema, when the route takes one. */
  body?: string;
  /** 5xx statuses the route documents (a dependency that is down), which are answers, not failures. */
  documented5xx: ReadonlySet<number>;
}

interface OpenApiOperation {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
  responses?: Record<string, unknown>;
}

/** Every operation of registry-api's OpenAPI document. */
function routesOf(document: { paths: Record<string, Record<string, OpenApiOperation>> }): Route[] {
  return Object.entries(document.paths).flatMap(([template, operations]) =>
    Object.entries(operations)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        template,
        operationId: operation.operationId ?? `${method} ${template}`,
        body: operation.requestBody?.content?.['application/json']?.schema?.$ref?.split('/').pop(),
        documented5xx: new Set(
          Object.keys(operation.responses ?? {})
            .map(Number)
            .filter((status) => status >= 500),
        ),
      })),
  );
}

/** Well-formed bodies by schema name; a body route without one is fed generic JSON objects. */
const BODIES: Record<string, fc.Arbitrary<Doc>> = {
  RegisterServiceDto: registrationBody,
  UpdateServiceDto: updateBody,
  ServiceFilterDto: filterBody,
  DiscoveryRegisterDto: discoveryRegisterBody,
  DiscoveryHeartbeatDto: discoveryHeartbeatBody,
  WebhookBodyDto: webhookBody,
  IncidentNoteDto: incidentNoteBody,
};

/** Query parameters some route (or the gateway) reads, besides made-up ones. */
const QUERY_NAMES = [
  'type',
  'tags',
  'protocol',
  'status',
  'name',
  'version',
  'health',
  'node_id',
  'metadata.k',
  'metadata.__proto__',
  'metadata.',
  'limit',
  'skip',
  'ttl',
  'events',
  'service_id',
  'snapshot',
  'since',
  'token',
  'kind',
  'from',
  'to',
  'windows',
  'format',
];

const queryValue = fc.oneof(
  urlComponent,
  fc.constantFrom('0', '-1', '1', '100', '101', '1e3', '9007199254740993', '99999999999999999999', 'true', 'active', 'all', ''),
);

const queryString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), urlComponent, hostileKey.map(encodeURIComponentSafe)), queryValue), {
      minLength: 1,
      maxLength: 6,
    })
    .map((pairs) => `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}`),
  fc.constantFrom(
    '?',
    '?&&==&',
    '?a',
    '?%',
    '?tags[]=a',
    '?tags[$ne]=a',
    '?limit=1&limit=2',
    '?__proto__[x]=1',
    '?constructor.prototype.x=1',
  ),
);

/** `encodeURIComponent`, minus the lone surrogates it throws on. */
function encodeURIComponentSafe(text: string): string {
  return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''));
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A JSON body: a mutant of a well-formed one, any JSON document, or bytes no JSON client sends. */
function bodyFor(route: Route): fc.Arbitrary<Uint8Array> {
  const valid: fc.Arbitrary<Doc> = (route.body && BODIES[route.body]) || fc.object({ maxDepth: 2 });
  const encoded = (documents: fc.Arbitrary<unknown>): fc.Arbitrary<Uint8Array> =>
    documents.map((document) => utf8(JSON.stringify(document)));
  return fc.oneof(
    { weight: 4, arbitrary: encoded(mutants(valid)) },
    { weight: 1, arbitrary: encoded(valid) },
    { weight: 2, arbitrary: encoded(fc.jsonValue({ maxDepth: 4 })) },
    { weight: 3, arbitrary: hostileJsonBytes },
  );
}

let registry: RegistryFixture;
let gateway: AppProcess;
let routes: Route[];
/** Records the fuzzing may address (and update or delete): ids and seed-004 names. */
let targets: Service[];

const alive = (app: AppProcess): boolean => app.child.exitCode === null && app.child.signalCode === null;

function pathOf(template: string, ids: fc.Arbitrary<string>, names: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const parameters = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);
  return fc
    .tuple(...parameters.map((name) => (name === 'id' ? ids : names)))
    .map((values) => values.reduce<string>((path, value, index) => path.replace(`{${parameters[index]}}`, value), template));
}

function requestFor(route: Route): fc.Arbitrary<RawRequest & { route: Route }> {
  const ids = fc.oneof(fc.constantFrom(...targets.map((service) => service.service_id)), uuid, urlComponent);
  const names = fc.oneof(fc.constantFrom(...targets.map((service) => service.instance_id ?? service.name)), urlComponent);
  const takesBody = route.body !== undefined;
  return fc.record({
    route: fc.constant(route),
    method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, fc.constantFrom('PATCH', 'OPTIONS', 'HEAD', 'PUT', 'POST')),
    path: fc
      .tuple(pathOf(route.template, ids, names), queryString)
      .map(([path, query]) => path + query)
      .filter((path) => path.length < MAX_PATH),
    body: takesBody ? bodyFor(route) : fc.option(bodyFor(route), { nil: undefined, freq: 5 }),
    contentType: takesBody ? contentType : fc.constantFrom(undefined, 'application/json'),
  });
}

/** The answer is not a server failure: below 500, or a 5xx the route itself documents for that method. */
function expectNoServerError(request: RawRequest & { route?: Route }, response: RawResponse): void {
  const documented = request.route?.method === request.method ? request.route.documented5xx : new Set<number>();
  if (response.status >= 500 && !documented.has(response.status)) {
    throw new Error(`${response.status} for ${describeRequest(request)}: ${response.text.slice(0, 500)}`);
  }
  expect(response.status).toBeGreaterThanOrEqual(100);
}

beforeAll(async () => {
  // Webhooks the fuzzer creates may only ever reach loopback, at creation and at delivery.
  const loopbackOnly = { PROBE_ALLOW_CIDRS: '127.0.0.0/8,::1/128' };
  registry = await startRegistry({ env: loopbackOnly });
  gateway = await startApp('realtime-gateway', {
    env: { NATS_URL: registry.nats.url, WS_PING_INTERVAL: '3600', ...loopbackOnly },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
  const document = await fetchJson<{ paths: Record<string, Record<string, OpenApiOperation>> }>('GET', `${registry.api.url}/api/docs-json`);
  expect(document.status).toBe(200);
  routes = routesOf(document.body);
  targets = await Promise.all(
    [1, 2, 3, 4].map((index) => registry.register({ name: uniqueName('fz-target'), instance_id: `fz-instance-${index}`, ttl: 3600 })),
  );
});

afterAll(async () => {
  await gateway?.stop();
  await registry?.dispose();
});

describe('registry-api under generated requests', () => {
  it('documents the routes this suite must reach', () => {
    const documented = new Set(routes.map((route) => `${route.method} ${route.template}`));
    for (const route of [
      'POST /api/v1/services/register',
      'PUT /api/v1/services/{id}',
      'PUT /api/v1/services/{id}/heartbeat',
      'GET /api/v1/services',
      'GET /api/v1/services/discover',
      'POST /api/v1/services/discover',
      'POST /api/v1/services/{id}/health-check',
      'GET /api/v1/services/{id}/health-checks',
      'GET /api/v1/stats',
      'GET /api/v1/incidents',
      'POST /api/v1/incidents/{id}/resolve',
      'GET /api/v1/services/{id}/uptime',
      'GET /api/v1/services/{id}/pings',
      'GET /api/v1/uptime',
      'GET /api/v1/status-page',
      'POST /api/v1/webhooks',
      'PUT /api/v1/webhooks/{id}',
      'POST /api/v1/webhooks/{id}/test',
      'POST /v1/discovery/register',
      'POST /v1/discovery/heartbeat',
      'GET /v1/discovery/services/{service_name}',
    ]) {
      expect(documented).toContain(route);
    }
    for (const name of Object.keys(BODIES)) expect(routes.some((route) => route.body === name)).toBe(true);
  });

  it('answers every route without a 5xx, whatever the path, query, body and content type', async () => {
    const requests = fc.constantFrom(...routes).chain(requestFor);
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        expectNoServerError(request, await send(registry.api.port, request));
        if (!alive(registry.api))
          throw new Error(`registry-api exited after ${describeRequest(request)}:\n${registry.api.output().slice(-2000)}`);
      }),
      { numRuns: 1500 },
    );
  });

  it('answers every body generated for each JSON route without a 5xx', async () => {
    const requests = fc.constantFrom(...routes.filter((route) => route.body !== undefined)).chain((route) =>
      fc.record({
        route: fc.constant(route),
        method: fc.constant(route.method),
        path: pathOf(route.template, fc.constantFrom(...targets.map((service) => service.service_id)), fc.constant('fz-instance-1')),
        body: bodyFor(route),
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        expectNoServerError(request, await send(registry.api.port, request));
        if (!alive(registry.api))
          throw new Error(`registry-api exited after ${describeRequest(request)}:\n${registry.api.output().slice(-2000)}`);
      }),
      { numRuns: 1500 },
    );
  });

  it('reads null filter fields of a discover body as no filter (once a TypeError and a 500)', async () => {
    for (const body of [{ metadata: null }, { type: null, name: null, tags: null }]) {
      const response = await fetchJson<{ services: unknown[]; filters_applied: Record<string, string> }>(
        'POST',
        `${registry.api.url}/api/v1/services/discover`,
        body,
      );
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.filters_applied).not.toHaveProperty('metadata');
      expect(Object.values(response.body.filters_applied)).not.toContain('null');
      expect(response.body.services.length).toBeGreaterThan(0);
    }
  });

  it('answers an oversized request head or body with a 4xx', async () => {
    for (const port of [registry.api.port, gateway.port]) {
      for (const request of [
        { method: 'GET', path: `/api/v1/services?name=${'a'.repeat(20_000)}` },
        { method: 'GET', path: '/api/v1/services', headers: { 'x-padding': 'a'.repeat(20_000) } },
        {
          method: 'POST',
          path: '/api/v1/services/register',
          body: utf8(`{"name":"${'a'.repeat(70 * 1024)}"}`),
          contentType: 'application/json',
        },
      ]) {
        const response = await send(port, request);
        expect(response.status, describeRequest(request)).toBeGreaterThanOrEqual(400);
        expect(response.status, describeRequest(request)).toBeLessThan(500);
      }
    }
    expect(alive(registry.api) && alive(gateway)).toBe(true);
  });

  it('accepts a well-formed registration and refuses one with a field of the wrong kind, naming it', async () => {
    await fc.assert(
      fc.asyncProperty(registrationBody, fc.boolean(), async (body, broken) => {
        const field = Object.keys(body)[Object.keys(body).length - 1] as string;
        const sent = broken ? withField(body, field, WRONG_KIND) : body;
        const request = {
          method: 'POST',
          path: '/api/v1/services/register',
          body: utf8(JSON.stringify(sent)),
          contentType: 'application/json',
        };
        const response = await send(registry.api.port, request);
        if (response.status === 429) return; // the per-client rate limit may refuse a burst: an answer, not a failure
        if (!broken) {
          expect(response.status, response.text).toBe(201);
          return;
        }
        expect(response.status, response.text).toBe(400);
        const errors = (JSON.parse(response.text) as { errors?: { field: string }[] }).errors ?? [];
        expect(errors.map((error) => error.field)).toContain(field);
      }),
      { numRuns: 60 },
    );
  });
});

describe('realtime-gateway under generated requests', () => {
  const gatewayPaths = fc.oneof(
    fc.constantFrom('/', '/config.js', '/event-types.js', '/health', '/ready', '/metrics', '/api/v1/events', '/api/v1/ws', '/api/v1'),
    urlComponent.map((file) => `/${file}`),
    fc.constant('/api/v1/events'),
  );

  it('answers HTTP, SSE and its query filters without a 5xx', async () => {
    const requests = fc.record({
      method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD', 'OPTIONS'),
      path: fc
        .tuple(gatewayPaths, queryString)
        .map(([path, query]) => path + query)
        .filter((path) => path.length < MAX_PATH),
      headers: fc.oneof(
        fc.constant({}),
        fc.record({
          'last-event-id': fc.oneof(
            fc.constantFrom('0', '-1', '1e3', '99999999999999999999', ''),
            fc.string({ maxLength: 20 }).map(encodeURIComponentSafe),
          ),
        }),
        fc.record({
          'if-none-match': fc.string({ maxLength: 20 }).map(encodeURIComponentSafe),
          origin: fc.constantFrom('http://evil.example', 'null'),
        }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        expectNoServerError(request, await send(gateway.port, request));
        if (!alive(gateway))
          throw new Error(`realtime-gateway exited after ${describeRequest(request)}:\n${gateway.output().slice(-2000)}`);
      }),
      { numRuns: 400 },
    );
  });

  it('answers WebSocket upgrades with any query string by opening or refusing, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(queryString, async (query) => {
        const outcome = await new Promise<{ opened: boolean; status?: number }>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${gateway.port}/api/v1/ws${query}`);
          socket.once('open', () => {
            socket.close();
            resolve({ opened: true });
          });
          socket.once('unexpected-response', (_request, response) => {
            resolve({ opened: false, status: response.statusCode });
            response.destroy();
          });
          socket.once('error', (error) => reject(new Error(`${query}: ${error.message}`)));
        });
        if (outcome.status !== undefined) expect(outcome.status, query).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });

  it('answers every WebSocket message with a message of its own and keeps the connection', async () => {
    const client = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws`);
    const subscribe = fc.record({
      type: fc.constant('subscribe'),
      events: fc.oneof(fc.constantFrom(['service_registered'], ['service_heartbeat', 'node_role_changed']), fc.constant('service_updated')),
      filters: fc.record({
        type: fc.string({ maxLength: 10 }),
        tags: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
        name: fc.string({ maxLength: 10 }),
      }),
    });
    const frames = fc.oneof(
      mutants(subscribe as fc.Arbitrary<Doc>).map((document) => JSON.stringify(document)),
      fc.jsonValue({ maxDepth: 4 }).map((document) => JSON.stringify(document)),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom(
        '{"type":"ping"}',
        '{"type":"subscribe","filters":null}',
        '{"type":"subscribe","filters":[]}',
        '{"type":"__proto__"}',
        '',
      ),
      hostileJsonBytes.map((bytes) => Buffer.from(bytes)),
    );
    try {
      await fc.assert(
        fc.asyncProperty(frames, async (frame) => {
          const before = client.messages.length;
          client.socket.send(frame);
          await waitFor(
            `an answer to ${JSON.stringify(String(frame).slice(0, 200))}`,
            () => client.messages.length > before || client.closed !== null,
            5_000,
            5,
          );
          expect(client.closed, String(frame).slice(0, 200)).toBeNull();
          expect(['error', 'subscribed', 'pong']).toContain(client.messages[before]?.type);
        }),
        { numRuns: 150 },
      );
    } finally {
      client.close();
    }
  });
});

describe('after the fuzzing', () => {
  it('both apps are alive and serve a well-formed client: a registration is stored, announced and listed', async () => {
    expect(alive(registry.api)).toBe(true);
    expect(alive(gateway)).toBe(true);
    expect((await fetchJson('GET', `${registry.base}/health`)).status).toBe(200);
    expect((await fetchJson('GET', `${gateway.url}/health`)).status).toBe(200);
    const client = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws?events=service_registered`);
    try {
      const name = uniqueName('fz-after');
      const service = await waitFor('a registration (past any rate limit)', async () => {
        const response = await fetchJson<Service>('POST', `${registry.base}/services/register`, { name, host: '10.0.0.9', port: 8080 });
        if (response.status === 429) return undefined;
        expect(response.status, response.text).toBe(201);
        return response.body;
      });
      expect((await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}`)).body.name).toBe(name);
      const [event] = await client.waitForEvents(1, (message) => message.data?.service_id === service.service_id);
      expect(event?.data?.name).toBe(name);
      const listed = await fetchJson<{ instances: unknown[] }>('GET', `${registry.api.url}/v1/discovery/services/fz-target-none`);
      expect(listed.status).toBe(200);
    } finally {
      client.close();
    }
  });
});
