import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryFixture } from '@beacon/testing';
import { Client, expectError, type WireError, type WireHeartbeat, type WireService } from './rest-helpers';

/**
 * What the original system's clients send, byte for byte, against the real registry-api:
 * a route that takes no body ignores whatever body and Content-Type arrive; a route that
 * reads JSON decodes it and says clearly what is wrong; a known path asked with the wrong
 * method is a 405 with `Allow`; a bad field gets one message.
 */

const RUN = randomUUID().slice(0, 8);
let counter = 0;
const unique = (prefix: string): string => `${prefix}-${RUN}-${++counter}`;

const SERVICES = '/api/v1/services';
const UNSUPPORTED = (type: string): string =>
  `Unsupported Content-Type "${type}": this route reads a JSON body; send it with "Content-Type: application/json"`;
const NOT_UTF8 = 'Body is not valid UTF-8: JSON bodies must be encoded as UTF-8';

let registry: RegistryFixture;
let api: Client;

beforeAll(async () => {
  // A CORS origin, for the preflight test: CORS is off by default.
  registry = await startRegistry({ env: { CORS_ORIGINS: 'http://dashboard.local' } });
  api = new Client(registry.api.url);
});

afterAll(async () => {
  await registry?.dispose();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: unknown;
}

/** The end of one response in `data`, or -1 while it is incomplete (Content-Length or chunked). */
function responseEnd(data: Buffer, method: string): number {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return -1;
  const head = data.subarray(0, headEnd).toString('latin1');
  const status = Number(head.slice(9, 12));
  const start = headEnd + 4;
  if (method === 'HEAD' || status === 204 || status === 304) return start;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return data.length >= start + Number(length[1]) ? start + Number(length[1]) : -1;
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = data.indexOf('\r\n0\r\n\r\n', start - 2);
    return last < 0 ? -1 : last + 7;
  }
  return -1;
}

function parseResponse(data: Buffer): RawResponse {
  const headEnd = data.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let payload = data.subarray(headEnd + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (let at = 0; ;) {
      const lineEnd = payload.indexOf('\r\n', at);
      const size = parseInt(payload.subarray(at, lineEnd).toString('latin1'), 16);
      if (!size) break;
      parts.push(payload.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    payload = Buffer.concat(parts);
  }
  const text = payload.toString('utf8');
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text, body };
}

/**
 * Sends exactly these bytes to registry-api over TCP and reads one response: for header
 * sets no HTTP library would write for us (the clients' own), invalid UTF-8, chunking.
 */
function rawRequest(head: string, body: Buffer | string = ''): Promise<RawResponse> {
  const method = head.slice(0, head.indexOf(' '));
  return new Promise((resolve, reject) => {
    const socket = connect(registry.api.port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response to ${head.split('\r\n')[0]}; got: ${data.toString('latin1')}`));
    }, 10_000);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const end = responseEnd(data, method);
      if (end < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(data.subarray(0, end)));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body]));
  });
}

const host = (): string => `127.0.0.1:${registry.api.port}`;

/** A request head with `Host` and the given header lines, in that order. */
const head = (requestLine: string, ...headers: string[]): string =>
  [requestLine, `Host: ${host()}`, ...headers].map((line) => `${line}\r\n`).join('') + '\r\n';

/** A body sent in chunks of at most `size` bytes (chunked transfer coding). */
function chunked(body: Buffer | string, size = 7): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, at + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const registration = (name = unique('svc')): Record<string, unknown> => ({ name, host: '10.20.0.1', port: 8080 });

async function registered(): Promise<WireService> {
  return api.register(registration());
}

/** How many records carry this name (0 after every refused registration). */
const stored = (name: string): Promise<number> => api.count(`?name=${encodeURIComponent(name)}`);

function expectHeartbeat(result: RawResponse, service: WireService): void {
  expect(result.status, result.text).toBe(200);
  const body = result.body as WireHeartbeat;
  expect(body.service_id).toBe(service.service_id);
  expect(body.message).toBe('Heartbeat received successfully');
}

describe('heartbeats as the original clients send them (PUT, no body to read)', () => {
  const clients: [string, (path: string) => string][] = [
    [
      "Python aiohttp's session.put(url): octet-stream, Content-Length 0",
      (path) =>
        head(
          `PUT ${path} HTTP/1.1`,
          'Accept: */*',
          'Accept-Encoding: gzip, deflate',
          'User-Agent: Python/3.11 aiohttp/3.8.4',
          'Content-Length: 0',
          'Content-Type: application/octet-stream',
        ),
    ],
    [
      'JavaScript axios.put(url): form-urlencoded, Content-Length 0',
      (path) =>
        head(
          `PUT ${path} HTTP/1.1`,
          'Accept: application/json, text/plain, */*',
          'Content-Type: application/x-www-form-urlencoded',
          'User-Agent: axios/1.7.9',
          'Accept-Encoding: gzip, compress, deflate, br',
          'Connection: keep-alive',
          'Content-Length: 0',
        ),
    ],
    [
      'Arduino ESP32 HTTPClient PUT(""): no Content-Type',
      (path) =>
        head(
          `PUT ${path} HTTP/1.1`,
          'User-Agent: ESP32HTTPClient',
          'Connection: keep-alive',
          'Accept-Encoding: identity;q=1,chunked;q=0.1,*;q=0',
          'Content-Length: 0',
        ),
    ],
    ['a bare PUT: no Content-Type, no Content-Length', (path) => head(`PUT ${path} HTTP/1.1`)],
  ];

  it.each(clients)('%s → 200, and the heartbeat counts', async (_label, request) => {
    const service = await registered();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const result = await rawRequest(request(`${SERVICES}/${service.service_id}/heartbeat`));
    expectHeartbeat(result, service);
    const after = await api.getService(service.service_id);
    expect(Date.parse(after.last_heartbeat ?? '')).toBeGreaterThan(Date.parse(service.updated_at));
  });

  const bodies: [string, string[], Buffer | string][] = [
    ['invalid JSON labelled application/json', ['Content-Type: application/json'], '{"not json'],
    ['a text/plain body', ['Content-Type: text/plain'], 'alive'],
    ['an octet-stream body', ['Content-Type: application/octet-stream'], Buffer.from([0, 1, 2, 255])],
    ['a form body', ['Content-Type: application/x-www-form-urlencoded'], 'a=1&b=2'],
    [
      'a multipart body',
      ['Content-Type: multipart/form-data; boundary=XyZ'],
      '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n',
    ],
    ['a body with no Content-Type', [], 'whatever'],
    ['an unparseable Content-Type', ['Content-Type: nonsense'], 'x'],
    ['an empty Content-Type', ['Content-Type: '], 'x'],
    ['bytes that are not UTF-8, labelled JSON', ['Content-Type: application/json'], Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ];

  it.each(bodies)('%s → 200 (the body is ignored)', async (_label, headers, body) => {
    const service = await registered();
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const path = `${SERVICES}/${service.service_id}/heartbeat`;
    expectHeartbeat(await rawRequest(head(`PUT ${path} HTTP/1.1`, ...headers, `Content-Length: ${bytes.length}`), bytes), service);
    expectHeartbeat(await rawRequest(head(`PUT ${path} HTTP/1.1`, ...headers, 'Transfer-Encoding: chunked'), chunked(bytes)), service);
  });

  it("Debian's real aiohttp: session.put(url) → 200", async () => {
    const service = await registered();
    const script = [
      'import asyncio, sys, aiohttp',
      'async def main():',
      '    async with aiohttp.ClientSession() as session:',
      '        async with session.put(sys.argv[1]) as response:',
      '            body = await response.json()',
      '            print(response.status, response.request_info.headers.get("Content-Type"), body["message"])',
      'asyncio.run(main())',
    ].join('\n');
    const url = `${registry.api.url}${SERVICES}/${service.service_id}/heartbeat`;
    const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, url], { timeout: 20_000 });
    expect(stdout.trim()).toBe('200 application/octet-stream Heartbeat received successfully');
  });

  it.each([
    ['no Content-Type', []],
    ['application/octet-stream', ['Content-Type: application/octet-stream']],
    ['application/x-www-form-urlencoded', ['Content-Type: application/x-www-form-urlencoded']],
    ['text/plain', ['Content-Type: text/plain']],
    ['application/json', ['Content-Type: application/json']],
    ['multipart/form-data', ['Content-Type: multipart/form-data; boundary=b']],
  ])('a heartbeat for an unknown id with %s → 404 naming it', async (_label, headers) => {
    const id = `missing-${unique('id')}`;
    const result = await rawRequest(head(`PUT ${SERVICES}/${id}/heartbeat HTTP/1.1`, ...headers, 'Content-Length: 2'), '{}');
    expect(result.status, result.text).toBe(404);
    expect((result.body as WireError).detail).toContain(id);
  });

  it('a body over the limit is a 413 here too: nothing is buffered past it', async () => {
    const service = await registered();
    const big = Buffer.alloc(70 * 1024, 'a');
    const path = `${SERVICES}/${service.service_id}/heartbeat`;
    for (const [framing, body] of [
      [`Content-Length: ${big.length}`, big],
      ['Transfer-Encoding: chunked', chunked(big, 8192)],
    ] as const) {
      const result = await rawRequest(head(`PUT ${path} HTTP/1.1`, 'Content-Type: text/plain', framing), body);
      expect(result.status, result.text).toBe(413);
      expect(result.body).toEqual({ detail: 'Request body is larger than 65536 bytes' });
    }
  });
});

describe('other routes that take no body ignore one', () => {
  it('GET with a body labelled JSON', async () => {
    const service = await registered();
    const result = await rawRequest(
      head(`GET ${SERVICES}/${service.service_id} HTTP/1.1`, 'Content-Type: application/json', 'Content-Length: 5'),
      '{{{{{',
    );
    expect(result.status, result.text).toBe(200);
    expect((result.body as WireService).service_id).toBe(service.service_id);
  });

  it('DELETE with garbage labelled JSON, and with a chunked text body', async () => {
    const first = await registered();
    const second = await registered();
    const one = await rawRequest(
      head(`DELETE ${SERVICES}/${first.service_id} HTTP/1.1`, 'Content-Type: application/json', 'Content-Length: 3'),
      '{{{',
    );
    expect(one.status, one.text).toBe(204);
    const two = await rawRequest(
      head(`DELETE ${SERVICES}/${second.service_id} HTTP/1.1`, 'Content-Type: text/plain', 'Transfer-Encoding: chunked'),
      chunked('bye'),
    );
    expect(two.status, two.text).toBe(204);
    expect(await stored(first.name)).toBe(0);
    expect(await stored(second.name)).toBe(0);
  });

  it('POST /services/{id}/health-check with garbage labelled JSON reaches the route', async () => {
    const service = await registered();
    const result = await rawRequest(
      head(`POST ${SERVICES}/${service.service_id}/health-check HTTP/1.1`, 'Content-Type: application/json', 'Content-Length: 7'),
      'garbage',
    );
    // The route ran: a service without a check is a 409, not a 400 about the body.
    expect(result.status, result.text).toBe(409);
    expect((result.body as WireError).detail).toContain('health_check_url');
  });

  it("seed 004's DELETE /v1/discovery/unregister/{name}/{id} (added after this layer) with garbage labelled JSON", async () => {
    const name = unique('v1');
    const registered = await api.call('POST', '/v1/discovery/register', {
      json: { service_name: name, instance_id: 'i-1', host: '10.30.0.1', port: 80 },
    });
    expect(registered.status, registered.text).toBe(200);
    const path = `/v1/discovery/unregister/${name}/i-1`;
    const removed = await rawRequest(head(`DELETE ${path} HTTP/1.1`, 'Content-Type: application/json', 'Content-Length: 4'), '{{{{');
    expect(removed.status, removed.text).toBe(200);
    expect(await stored(name)).toBe(0);
    const again = await rawRequest(head(`DELETE ${path} HTTP/1.1`, 'Content-Type: text/plain', 'Content-Length: 1'), 'x');
    expect(again.status, again.text).toBe(404);
  });

  it('DELETE /services/cleanup with a form body', async () => {
    const result = await rawRequest(
      head(`DELETE ${SERVICES}/cleanup HTTP/1.1`, 'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 3'),
      'a=1',
    );
    expect(result.status, result.text).toBe(200);
    expect(result.body).toHaveProperty('removed_count');
  });
});

describe('routes that read JSON (register, update, discover)', () => {
  const json = (body: unknown): Buffer => Buffer.from(JSON.stringify(body));

  it.each([
    ['application/json', 'application/json'],
    ['a charset parameter', 'application/json; charset=utf-8'],
    ['another case and a quoted charset', 'APPLICATION/Json;Charset="UTF-8"'],
    ['a +json type', 'application/vnd.beacon+json'],
  ])('register with %s → 201', async (_label, type) => {
    const body = json(registration());
    const result = await rawRequest(
      head(`POST ${SERVICES}/register HTTP/1.1`, `Content-Type: ${type}`, `Content-Length: ${body.length}`),
      body,
    );
    expect(result.status, result.text).toBe(201);
  });

  it('register with no Content-Type reads the body as JSON, as the original did', async () => {
    const body = json(registration());
    const result = await rawRequest(head(`POST ${SERVICES}/register HTTP/1.1`, `Content-Length: ${body.length}`), body);
    expect(result.status, result.text).toBe(201);
  });

  it('register with a chunked JSON body → 201', async () => {
    const name = unique('chunked');
    const result = await rawRequest(
      head(`POST ${SERVICES}/register HTTP/1.1`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'),
      chunked(json(registration(name)), 5),
    );
    expect(result.status, result.text).toBe(201);
    expect(await stored(name)).toBe(1);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain; charset=utf-8'],
    ['form-urlencoded', 'application/x-www-form-urlencoded'],
    ['octet-stream', 'application/octet-stream'],
    ['multipart', 'multipart/form-data; boundary=XyZ'],
    ['an unparseable type', 'nonsense'],
  ])('register with a JSON body sent as %s → 415 naming it; nothing stored', async (_label, type) => {
    const name = unique('typed');
    const body = json(registration(name));
    for (const framing of [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked']) {
      const result = await rawRequest(
        head(`POST ${SERVICES}/register HTTP/1.1`, `Content-Type: ${type}`, framing),
        framing.startsWith('Content-Length') ? body : chunked(body),
      );
      expect(result.status, result.text).toBe(415);
      expect(result.body).toEqual({ detail: UNSUPPORTED(type) });
    }
    expect(await stored(name)).toBe(0);
  });

  it('register with bytes that are not UTF-8 → 400 saying so; nothing stored', async () => {
    const name = unique('latin1');
    const body = Buffer.from(JSON.stringify({ ...registration(name), metadata: { city: 'Malmö' } }), 'latin1');
    const result = await rawRequest(
      head(`POST ${SERVICES}/register HTTP/1.1`, 'Content-Type: application/json; charset=utf-8', `Content-Length: ${body.length}`),
      body,
    );
    expect(result.status, result.text).toBe(400);
    expect(result.body).toEqual({ detail: NOT_UTF8 });
    expect(await stored(name)).toBe(0);
  });

  it('register with an empty body → 400 naming the missing fields', async () => {
    for (const headers of [
      ['Content-Type: application/json', 'Content-Length: 0'],
      ['Content-Length: 0'],
      ['Content-Type: text/plain', 'Content-Length: 0'],
    ]) {
      const result = await rawRequest(head(`POST ${SERVICES}/register HTTP/1.1`, ...headers));
      const error = result.body as WireError;
      expect(result.status, result.text).toBe(400);
      expect(error.errors?.map((field) => field.field).sort()).toEqual(['host', 'name', 'port']);
    }
  });

  it('keeps the syntax-error message and the __proto__ refusal', async () => {
    const name = unique('poison');
    expectError(
      await api.call('POST', `${SERVICES}/register`, { raw: '{"name": ', contentType: 'application/json' }),
      400,
      'Body is not valid JSON',
    );
    const poisoned = `{"name":"${name}","host":"h","port":1,"__proto__":{"admin":true}}`;
    expectError(await api.call('POST', `${SERVICES}/register`, { raw: poisoned, contentType: 'application/json' }), 400, 'prototype');
    expect(await stored(name)).toBe(0);
  });

  it('update (PUT /services/{id}) with text/plain → 415; with a +json type → 200', async () => {
    const service = await registered();
    const path = `${SERVICES}/${service.service_id}`;
    const body = json({ version: '2.0.0' });
    const refused = await rawRequest(head(`PUT ${path} HTTP/1.1`, 'Content-Type: text/plain', `Content-Length: ${body.length}`), body);
    expect(refused.status, refused.text).toBe(415);
    expect((await api.getService(service.service_id)).version).toBeNull();
    const accepted = await rawRequest(
      head(`PUT ${path} HTTP/1.1`, 'Content-Type: application/merge-patch+json', `Content-Length: ${body.length}`),
      body,
    );
    expect(accepted.status, accepted.text).toBe(200);
    expect((await api.getService(service.service_id)).version).toBe('2.0.0');
  });

  it('POST /services/discover: the filter body is optional; a chunked one filters', async () => {
    const type = unique('disc');
    const service = await api.register({ ...registration(), type });
    for (const headers of [
      [],
      ['Content-Length: 0'],
      ['Content-Type: application/json', 'Content-Length: 0'],
      ['Content-Type: application/x-www-form-urlencoded', 'Content-Length: 0'],
    ]) {
      const result = await rawRequest(head(`POST ${SERVICES}/discover HTTP/1.1`, ...headers));
      expect(result.status, `${headers.join(', ')}: ${result.text}`).toBe(200);
    }
    const filtered = await rawRequest(
      head(`POST ${SERVICES}/discover HTTP/1.1`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'),
      chunked(json({ type }), 4),
    );
    expect(filtered.status, filtered.text).toBe(200);
    expect((filtered.body as { services: WireService[] }).services.map((found) => found.service_id)).toEqual([service.service_id]);
  });

  it('a JSON body over the limit → 413 JSON; nothing stored', async () => {
    const name = unique('huge');
    const body = json({ ...registration(name), metadata: { blob: 'b'.repeat(70 * 1024) } });
    const result = await rawRequest(
      head(`POST ${SERVICES}/register HTTP/1.1`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'),
      chunked(body, 4096),
    );
    expect(result.status, result.text).toBe(413);
    expect(result.body).toEqual({ detail: 'Request body is larger than 65536 bytes' });
    expect(await stored(name)).toBe(0);
  });
});

describe('a known path asked with a method it does not take → 405 with Allow', () => {
  it.each([
    ['GET', '/register', 'POST'],
    ['PUT', '/discover', 'GET, HEAD, POST'],
    ['GET', '/cleanup', 'DELETE'],
    ['HEAD', '/register', 'POST'],
    ['DELETE', '/types', 'GET, HEAD'],
    ['POST', '', 'GET, HEAD'],
  ])('%s /api/v1/services%s → 405, Allow: %s', async (method, path, allow) => {
    const result = await rawRequest(head(`${method} ${SERVICES}${path} HTTP/1.1`));
    expect(result.status, result.text).toBe(405);
    expect(result.headers.allow).toBe(allow);
    if (method !== 'HEAD') expect(result.body).toEqual({ detail: `Method ${method} is not allowed on this path; allowed: ${allow}` });
  });

  it.each([
    ['GET', '/v1/discovery/unregister/web/i-1', 'DELETE'],
    ['GET', '/v1/discovery/register', 'POST'],
    ['POST', '/v1/discovery/services/web', 'GET, HEAD'],
  ])('routes added later get it too: %s %s → 405, Allow: %s', async (method, path, allow) => {
    const result = await rawRequest(head(`${method} ${path} HTTP/1.1`));
    expect(result.status, result.text).toBe(405);
    expect(result.headers.allow).toBe(allow);
    if (method !== 'HEAD') expect(result.body).toEqual({ detail: `Method ${method} is not allowed on this path; allowed: ${allow}` });
  });

  it('on a service id: PATCH /{id}, GET /{id}/heartbeat, POST /{id}/status', async () => {
    const service = await registered();
    const id = service.service_id;
    for (const [method, path, allow] of [
      ['PATCH', `/${id}`, 'DELETE, GET, HEAD, PUT'],
      ['GET', `/${id}/heartbeat`, 'PUT'],
      ['POST', `/${id}/status`, 'GET, HEAD'],
      ['GET', `/${id}/health-check`, 'POST'],
    ] as const) {
      const body = json405(
        await rawRequest(head(`${method} ${SERVICES}${path} HTTP/1.1`, 'Content-Type: application/json', 'Content-Length: 2'), '{}'),
      );
      expect(body.status, `${method} ${path}: ${body.text}`).toBe(405);
      expect(body.headers.allow).toBe(allow);
    }
    // Nothing was touched.
    expect((await api.getService(id)).revision).toBe(service.revision);
  });

  it('the methods a path takes still work: HEAD on a GET route, CORS preflight, and the route itself', async () => {
    const service = await registered();
    const headResult = await rawRequest(head(`HEAD ${SERVICES}/${service.service_id} HTTP/1.1`));
    expect(headResult.status).toBe(200);
    expect(headResult.headers['content-type']).toContain('application/json');
    const preflight = await rawRequest(
      head(`OPTIONS ${SERVICES}/register HTTP/1.1`, 'Origin: http://dashboard.local', 'Access-Control-Request-Method: POST'),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://dashboard.local');
    expect((await rawRequest(head(`GET ${SERVICES}/types HTTP/1.1`))).status).toBe(200);
    expect((await rawRequest(head(`GET /health HTTP/1.1`))).status).toBe(200);
  });

  it.each([
    ['GET', '/api/v1/nope'],
    ['POST', '/api/v1/nope'],
    ['PATCH', `${SERVICES}/a/b/c`],
    ['GET', `${SERVICES}/a/heartbeat/extra`],
  ])('an unknown path stays a JSON 404: %s %s', async (method, path) => {
    const result = await rawRequest(head(`${method} ${path} HTTP/1.1`));
    expect(result.status, result.text).toBe(404);
    expect(result.headers.allow).toBeUndefined();
    expect(typeof (result.body as WireError).detail).toBe('string');
  });
});

/** The response, checked to be a `{ detail }` JSON body naming its Allow list. */
function json405(result: RawResponse): RawResponse {
  if (result.status === 405) expect((result.body as WireError).detail).toContain(result.headers.allow);
  return result;
}

describe('one validation message per field', () => {
  async function refused(patch: Record<string, unknown>): Promise<WireError> {
    const name = unique('invalid');
    const result = await api.call('POST', `${SERVICES}/register`, { json: { ...registration(name), ...patch } });
    const error = expectError(result, 400);
    expect(await stored(name)).toBe(0);
    // The summary is the list, in the same order, one entry per field.
    const errors = error.errors ?? [];
    expect(error.detail).toBe(`Invalid body: ${errors.map((field) => `${field.field}: ${field.message}`).join('; ')}`);
    expect(new Set(errors.map((field) => field.field)).size).toBe(errors.length);
    return error;
  }

  it.each([
    ['port: "http"', { port: 'http' }, [{ field: 'port', message: 'must be an integer number' }]],
    ['port: 70000', { port: 70000 }, [{ field: 'port', message: 'must not be greater than 65535' }]],
    ['tags: "a,b"', { tags: 'a,b' }, [{ field: 'tags', message: 'must be an array' }]],
    ['tags: [1]', { tags: [1] }, [{ field: 'tags', message: 'each value in tags must be a string' }]],
    ['name: 5', { name: 5 }, [{ field: 'name', message: 'must be a string' }]],
    [
      'several bad fields',
      { port: 'http', tags: 'a,b', ttl: 5, colour: 'red' },
      [
        { field: 'port', message: 'must be an integer number' },
        { field: 'tags', message: 'must be an array' },
        { field: 'ttl', message: 'must not be less than 10' },
        { field: 'colour', message: 'is not an accepted field' },
      ],
    ],
  ])('%s', async (_label, patch, errors) => {
    const byField = (list: { field: string }[]): { field: string }[] => [...list].sort((a, b) => a.field.localeCompare(b.field));
    expect(byField((await refused(patch)).errors ?? [])).toEqual(byField(errors));
  });
});
