import { waitFor } from '@beacon/testing';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Beacon, BeaconError } from '../src';

const TTL = 10;

/** A loopback registry whose answers the test decides; every request is logged in order of arrival and of answer. */
async function loopbackRegistry(answer: (request: IncomingMessage, response: ServerResponse, log: string[]) => void): Promise<{
  url: string;
  log: string[];
  inflight: () => number;
  maxInflight: () => number;
  server: Server;
}> {
  const log: string[] = [];
  let inflight = 0;
  let maxInflight = 0;
  const server = createServer((request, response) => {
    inflight += 1;
    maxInflight = Math.max(maxInflight, inflight);
    response.on('close', () => (inflight -= 1));
    log.push(`${request.method} ${request.url}`);
    request.resume();
    request.on('end', () => answer(request, response, log));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  servers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    inflight: () => inflight,
    maxInflight: () => maxInflight,
    server,
  };
}

const servers: Server[] = [];

function service(id: string): Record<string, unknown> {
  const now = Date.now();
  return {
    service_id: id,
    name: 'svc',
    host: '127.0.0.1',
    port: 1,
    ttl: TTL,
    status: 'active',
    expires_at: new Date(now + TTL * 1000).toISOString(),
  };
}

function json(response: ServerResponse, status: number, value?: unknown): void {
  response.writeHead(status, value === undefined ? {} : { 'content-type': 'application/json' });
  response.end(value === undefined ? undefined : JSON.stringify(value));
}

describe('keepAlive against a loopback registry that misbehaves', () => {
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  it('a 404 storm while re-registering fails with 503: one POST per failed heartbeat, one request at a time, lost once, restored once', async () => {
    let registrations = 0;
    const registry = await loopbackRegistry((request, response) => {
      if (request.method === 'POST') {
        registrations += 1;
        // The first registration works; the next three re-registrations meet a store that is down.
        if (registrations === 1 || registrations > 4) json(response, 201, service(`id-${registrations}`));
        else json(response, 503, { detail: 'store unavailable' });
      } else if (request.method === 'PUT') {
        if (request.url === `/api/v1/services/id-${registrations}/heartbeat` && registrations > 4) {
          json(response, 200, {
            service_id: `id-${registrations}`,
            status: 'active',
            expires_at: new Date(Date.now() + TTL * 1000).toISOString(),
            last_heartbeat: new Date().toISOString(),
          });
        } else json(response, 404, { detail: 'Service not found' });
      } else json(response, 204);
    });
    const registration = await new Beacon({ url: registry.url }).register(
      { name: 'svc', host: '127.0.0.1', port: 1, ttl: TTL },
      { keepAlive: true },
    );
    const lost: BeaconError[] = [];
    const errors: unknown[] = [];
    let restored = 0;
    registration.on('lost', (error) => lost.push(error));
    registration.on('error', (error) => errors.push(error));
    registration.on('restored', () => (restored += 1));
    try {
      await waitFor('restored', () => restored >= 1, 60_000);
      await waitFor('a heartbeat of the new id', () => registry.log.at(-1) === 'PUT /api/v1/services/id-5/heartbeat', 15_000);
    } finally {
      await registration.close();
    }
    expect(lost).toHaveLength(1);
    expect(lost[0]!.code).toBe('not_found');
    expect(restored).toBe(1);
    expect(errors.map((error) => (error as BeaconError).code)).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(registration.id).toBe('id-5');
    expect(registry.maxInflight()).toBe(1);
    // Every 404 is followed by exactly one POST; nothing between them, nothing after the DELETE.
    const requests = registry.log.slice(1);
    const storm = requests.slice(0, 8);
    expect(storm).toEqual([
      'PUT /api/v1/services/id-1/heartbeat',
      'POST /api/v1/services/register',
      'PUT /api/v1/services/id-1/heartbeat',
      'POST /api/v1/services/register',
      'PUT /api/v1/services/id-1/heartbeat',
      'POST /api/v1/services/register',
      'PUT /api/v1/services/id-1/heartbeat',
      'POST /api/v1/services/register',
    ]);
    expect(requests.at(-1)).toBe('DELETE /api/v1/services/id-5');
  }, 90_000);

  it('close() while a re-registration is in flight: the DELETE goes after its answer, for the id it got, and nothing follows', async () => {
    let registrations = 0;
    let release: () => void = () => undefined;
    const registry = await loopbackRegistry((request, response) => {
      if (request.method === 'POST') {
        registrations += 1;
        if (registrations === 1) json(response, 201, service('id-1'));
        else release = () => json(response, 201, service('id-2'));
      } else if (request.method === 'PUT') json(response, 404, { detail: 'Service not found' });
      else json(response, 204);
    });
    const registration = await new Beacon({ url: registry.url }).register(
      { name: 'svc', host: '127.0.0.1', port: 1, ttl: TTL },
      { keepAlive: true },
    );
    await waitFor('the re-registration in flight', () => registrations >= 2, 30_000);
    const closing = registration.close();
    await new Promise((done) => setTimeout(done, 500));
    expect(registry.log.at(-1)).toBe('POST /api/v1/services/register');
    release();
    await closing;
    await new Promise((done) => setTimeout(done, (TTL * 1000) / 3 + 1_000));
    expect(registry.log.slice(-2)).toEqual(['POST /api/v1/services/register', 'DELETE /api/v1/services/id-2']);
    expect(registration.state).toBe('closed');
  }, 60_000);
});

describe('keepAlive when something other than Beacon answers 2xx', () => {
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  it('a heartbeat answered 200 {} (a proxy, a stub) is a failed heartbeat, and the record held is not overwritten with holes', async () => {
    const registry = await loopbackRegistry((request, response) => {
      if (request.method === 'POST') json(response, 201, service('id-1'));
      else if (request.method === 'PUT') json(response, 200, {});
      else json(response, 204);
    });
    const registration = await new Beacon({ url: registry.url }).register(
      { name: 'svc', host: '127.0.0.1', port: 1, ttl: TTL },
      { keepAlive: true },
    );
    const lost: BeaconError[] = [];
    let beats = 0;
    registration.on('lost', (error) => lost.push(error));
    registration.on('heartbeat', () => (beats += 1));
    try {
      await waitFor(
        'the first heartbeat answered',
        () => registry.log.filter((r) => r.startsWith('PUT')).length >= 1 && registry.inflight() === 0,
        15_000,
      );
      await waitFor('lost', () => lost.length >= 1, 5_000).catch(() => undefined);
      expect(beats).toBe(0);
      expect(registration.state).toBe('lost');
      expect(lost[0]?.code).toBe('protocol');
      expect(registration.service.status).toBe('active');
      expect(typeof registration.service.expires_at).toBe('string');
    } finally {
      await registration.close();
    }
  }, 60_000);

  it('a registration answered 201 {} is refused as a protocol error, not kept with an undefined id', async () => {
    const registry = await loopbackRegistry((_request, response) => json(response, 201, {}));
    const error = await new Beacon({ url: registry.url })
      .register({ name: 'svc', host: '127.0.0.1', port: 1, ttl: TTL }, { keepAlive: true })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(BeaconError);
    expect((error as BeaconError).code).toBe('protocol');
  });
});
