import type { HealthChecksResponse, ProbeResult, Service } from '@beacon/contracts';
import {
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
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13, finding 6: the prober's SSRF guard let `0.0.0.0`, `0`, `[::]` and
 * `[::ffff:0.0.0.0]` through to loopback although loopback was denied, and its default deny
 * list missed the cloud metadata addresses outside 169.254/16. Here a real health-prober
 * (on the permissioned nats-server, loopback denied) is given targets in every spelling of
 * those addresses, through registrations as any client makes them: each check is refused
 * with a reason and no connection reaches the listener this test runs on loopback, which
 * first shows that each spelling would reach it.
 */

/** Loopback denied on top of the defaults, as an operator who keeps the prober off this host would. */
const DENY = '169.254.0.0/16,fe80::/10,fd00:ec2::254,100.100.100.200,127.0.0.0/8,::1';

let nats: NatsServerHandle;
let registry: RegistryFixture;
let prober: AppProcess;
/** An HTTP server answering healthy on 127.0.0.1 and ::1, on one port: what a check that got through would reach. */
let listeners: Server[] = [];
let port = 0;
let connections = 0;

function as(identity: 'registry-api' | 'health-prober'): Record<string, string> {
  const found = nats.identities?.[identity];
  if (!found) throw new Error(`no credentials for ${identity}`);
  return { NATS_URL: nats.url, NATS_USER: found.NATS_USER, NATS_PASSWORD_FILE: found.NATS_PASSWORD_FILE };
}

function listen(host: string, onPort: number): Promise<Server> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end('{"status":"healthy"}');
  });
  server.on('connection', () => (connections += 1));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(onPort, host, () => resolve(server));
  });
}

/** Whether a plain TCP connect to `host` reaches this test's listener (no guard in the way). */
function reaches(host: string): Promise<boolean> {
  const before = connections;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      void waitFor(`${host} counted`, () => connections > before, 2000).then(
        () => resolve(true),
        () => resolve(false),
      );
    });
    socket.once('error', () => resolve(false));
  });
}

function registration(): Record<string, unknown> {
  return { name: uniqueName('ssrf'), host: '10.0.0.1', port: 80, ttl: 300, health_check_interval: 1, health_check_timeout: 2 };
}

async function registerWith(check: { health_check_url: string } | { health_check_tcp: string }): Promise<Service> {
  return registry.register({ ...registration(), ...check });
}

/** The first scheduled check the prober reported for `service` (read back through registry-api). */
async function firstResult(service: Service): Promise<{ outcome: string; error: string | null }> {
  return waitFor(`a check of ${service.health_check_url ?? service.health_check_tcp}`, async () => {
    const history = await fetchJson<HealthChecksResponse>('GET', `${registry.base}/services/${service.service_id}/health-checks`);
    return history.body.checks[0];
  });
}

beforeAll(async () => {
  nats = await startNatsServer({ auth: true });
  const first = await listen('127.0.0.1', 0);
  port = (first.address() as { port: number }).port;
  listeners = [first, await listen('::1', port)];
  registry = await startRegistry({ nats, env: as('registry-api') });
  prober = await startApp('health-prober', {
    env: { ...as('health-prober'), PROBE_DENY_CIDRS: DENY, BEACON_RESYNC_INTERVAL: '2' },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
});

afterAll(async () => {
  await prober?.stop();
  await registry?.dispose();
  await nats?.dispose();
  for (const server of listeners) server.close();
});

describe('SSRF guard of the real prober (loopback denied)', () => {
  const unspecified = ['0', '0.0.0.0', '[::]', '[::ffff:0.0.0.0]'];
  const loopbackSpellings = ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', 'localhost'];

  it('each unspecified spelling does reach a loopback listener when nothing stands in the way', async () => {
    for (const host of ['0.0.0.0', '::', '::ffff:0.0.0.0']) expect(await reaches(host), host).toBe(true);
  });

  it('refuses every URL spelling of the unspecified address and of loopback, and contacts nothing', async () => {
    const before = connections;
    const proberChecked: string[] = [];
    await Promise.all(
      [...unspecified, ...loopbackSpellings].map(async (host) => {
        const response = await fetchJson<Service & { detail?: string }>('POST', `${registry.base}/services/register`, {
          ...registration(),
          health_check_url: `http://${host}:${port}/health`,
        });
        // registry-api's URL check already refuses some spellings (`0`, decimal, hex, octal); the prober must refuse the rest.
        if (response.status === 400) {
          expect(response.body.detail, host).toContain('health_check_url');
          return;
        }
        expect(response.status, host).toBe(201);
        const result = await firstResult(response.body);
        expect(result.outcome, host).toBe('refused');
        const reason = unspecified.includes(host) ? /unspecified address .* always refused/ : /denied range (127\.0\.0\.0\/8|::1)/;
        expect(result.error, host).toMatch(reason);
        proberChecked.push(host);
      }),
    );
    // The forms the issue names got as far as the prober (this test is about its guard, not the edge's).
    expect(proberChecked).toEqual(expect.arrayContaining(['0.0.0.0', '[::]', '[::ffff:0.0.0.0]', '[::ffff:127.0.0.1]', 'localhost']));
    expect(connections).toBe(before);
  });

  it('refuses TCP targets that name them, literal or resolved by name', async () => {
    const before = connections;
    const hosts = ['0', '0x0', '0.0.0.0', '[::]', '2130706433', '0x7f.1', 'localhost'];
    const services = await Promise.all(
      hosts.map(async (host) => ({ host, service: await registerWith({ health_check_tcp: `${host}:${port}` }) })),
    );
    for (const { host, service } of services) {
      expect((await firstResult(service)).outcome, host).toBe('refused');
    }
    expect(connections).toBe(before);
  });

  it('an on-demand check says why it refused, and reaches nothing', async () => {
    const before = connections;
    const service = await registerWith({ health_check_url: `http://[::]:${port}/health` });
    // The prober learns of the service from its event; until then registry-api may answer 404/503.
    const answer = await waitFor('an on-demand check', async () => {
      const response = await fetchJson<{ result: ProbeResult }>('POST', `${registry.base}/services/${service.service_id}/health-check`);
      expect(response.status).toBeLessThan(500);
      return response.status === 200 ? response.body : undefined;
    });
    expect(answer.result).toMatchObject({ ok: false, outcome: 'refused' });
    expect(answer.result.error).toBe(':: is an unspecified address (::/128), which reaches this host: always refused');
    expect(connections).toBe(before);
  });

  it('refuses cloud metadata outside link-local by default, and still checks private LAN targets', async () => {
    const metadata = await Promise.all([
      registerWith({ health_check_url: 'http://100.100.100.200/latest/meta-data/' }),
      registerWith({ health_check_url: 'http://[fd00:ec2::254]/latest/meta-data/' }),
      registerWith({ health_check_url: 'http://169.254.169.254/latest/meta-data/' }),
    ]);
    for (const service of metadata) {
      const result = await firstResult(service);
      expect(result.outcome, service.health_check_url ?? '').toBe('refused');
      expect(result.error).toContain('denied range');
    }
    // 10.255.255.1 routes nowhere here: the check is tried (a timeout or a network error), not refused.
    const lan = await registerWith({ health_check_url: 'http://10.255.255.1:8080/health' });
    expect((await firstResult(lan)).outcome).not.toBe('refused');
  });

  it('the prober is still up and ready', async () => {
    expect((await fetchJson('GET', `${prober.url}/ready`)).status).toBe(200);
    expect(prober.child.exitCode).toBeNull();
  });
});
