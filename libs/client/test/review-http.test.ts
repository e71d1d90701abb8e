import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Beacon, BeaconError } from '../src';

/** A loopback HTTP server answering as `handler` says; every request it got is recorded. */
async function hostile(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ url: string; seen: { method: string; url: string; authorization?: string }[]; server: Server }> {
  const seen: { method: string; url: string; authorization?: string }[] = [];
  const server = createServer((request, response) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization });
    handler(request, response);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const servers: Server[] = [];

async function errorOf(call: Promise<unknown>): Promise<BeaconError> {
  const error = await call.then(
    (value: unknown) => value,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BeaconError);
  return error as BeaconError;
}

describe('the REST core against hostile loopback servers', () => {
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  it('does not follow a redirect: a POST turned into a GET elsewhere was taken as the registration', async () => {
    const target = await hostile((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ services: [], total: 0 }));
    });
    const front = await hostile((request, response) => {
      response.writeHead(302, { location: `${target.url}${request.url ?? '/'}` });
      response.end();
    });
    const beacon = new Beacon({ url: front.url, token: 'secret' });

    const error = await errorOf(beacon.registerOnce({ name: 'svc', host: '10.0.0.1', port: 80 }));
    expect(error.code).toBe('protocol');
    expect(error.status).toBe(302);
    expect(error.detail).toContain(`${target.url}/api/v1/services/register`);
    const deleted = await errorOf(beacon.deregister('abc'));
    expect(deleted.code).toBe('protocol');
    // Nothing reached the other server: no method rewritten, no DELETE sent where it was not meant to go.
    expect(target.seen).toEqual([]);
    expect(front.seen.map((s) => s.method)).toEqual(['POST', 'DELETE']);
  });

  it('caps the bytes of an answer: an endless body is refused once past the cap, not buffered until the timeout', async () => {
    const { url } = await hostile((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      response.write('{"services":[');
      const pump = (): void => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
    const beacon = new Beacon({ url, timeoutMs: 120_000, maxResponseBytes: 1024 * 1024 });
    const error = await errorOf(beacon.stats());
    expect(error.code).toBe('protocol');
    expect(error.status).toBe(200);
    expect(error.detail).toMatch(/larger than 1048576 bytes/);
  });

  it('an answer within the cap still reads whole, a declared Content-Length past it is refused before reading', async () => {
    const body = JSON.stringify({ total: 1, padding: 'x'.repeat(4000) });
    const { url } = await hostile((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      response.end(body);
    });
    expect(await new Beacon({ url, maxResponseBytes: 8192 }).stats()).toEqual(JSON.parse(body));
    const error = await errorOf(new Beacon({ url, maxResponseBytes: 1000 }).stats());
    expect(error.code).toBe('protocol');
    expect(error.detail).toMatch(/larger than 1000 bytes/);
  });

  it('a token read from a file keeps no line break; one that cannot be a header is refused as such, not as a network failure', async () => {
    const server = await hostile((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end('{"total_services":0}');
    });
    await new Beacon({ url: server.url, token: 'secret-token\n' }).stats();
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer secret-token']);

    const error = await errorOf(new Beacon({ url: server.url, token: 'secret\ntoken' }).stats());
    expect(error.code).toBe('bad_request');
    expect(error.status).toBe(0);
    expect(error.detail).toMatch(/token/);
    expect(server.seen).toHaveLength(1);
  });

  it('a body that never ends is cut by the per-request timeout', async () => {
    const { url } = await hostile((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"total":');
    });
    const error = await errorOf(new Beacon({ url, timeoutMs: 500 }).stats());
    expect(error.code).toBe('network');
    expect(error.detail).toMatch(/did not answer within 500 ms/);
  });
});
