import type { Service } from '@beacon/contracts';
import {
  fetchJson,
  sleep,
  startApp,
  startNatsServer,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13, finding 4: with PROBE_CONCURRENCY=4, five registrations whose endpoint never
 * answers took every slot, and a service that answers got no checks and expired. Here the
 * real prober (PROBE_CONCURRENCY=4, on the permissioned nats-server) checks one answering
 * service, then five black holes are registered on five hosts (127.0.0.2–6: loopback on
 * Linux), each a listener that accepts and never replies, with a 15 s check timeout.
 *
 * Why it would matter: the black holes ask for five slots of four, each held 15 s per
 * check; handed out in arrival order (as before) they would hold all four, and the
 * answering service, whose ttl is 10 s, would wait up to 15 s for a turn and expire. The
 * test shows the prober's own metrics with the black holes holding every slot they may
 * (3 of 4: new and slow targets never get the last quarter) and more of them waiting, and
 * then that the answering service is checked every second and never leaves `healthy`.
 * (With the lane reservation taken out of the built prober, the black holes held all 4
 * slots and this test saw the service turn `expired`.)
 */

const BLACK_HOLE_TIMEOUT_S = 15;
const TTL_S = 10;

let nats: NatsServerHandle;
let registry: RegistryFixture;
let prober: AppProcess;
let target: HttpServer;
let targetUrl = '';
let checksOfTarget = 0;
const blackHoles: TcpServer[] = [];
const heldSockets = new Set<Socket>();

function as(identity: 'registry-api' | 'health-prober'): Record<string, string> {
  const found = nats.identities?.[identity];
  if (!found) throw new Error(`no credentials for ${identity}`);
  return { NATS_URL: nats.url, NATS_USER: found.NATS_USER, NATS_PASSWORD_FILE: found.NATS_PASSWORD_FILE };
}

/** Accepts connections on `host` and never answers: a check of it lasts its whole timeout. */
function startBlackHole(host: string): Promise<{ server: TcpServer; url: string }> {
  const server = createTcpServer((socket) => {
    heldSockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => heldSockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve({ server, url: `http://${host}:${(server.address() as { port: number }).port}/health` }));
  });
}

/** One sample of the prober's `/metrics`, by series (`name{labels}`, without the `app` label every series has). */
async function proberMetrics(): Promise<Map<string, number>> {
  const text = (await fetchJson('GET', `${prober.url}/metrics`)).text;
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(beacon_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) series.set((match[1] as string).replace(/,?app="[^"]*"/, '').replace('{}', ''), Number(match[2]));
  }
  return series;
}

async function status(service: Service): Promise<Service> {
  return (await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}/status`)).body;
}

beforeAll(async () => {
  nats = await startNatsServer({ auth: true });
  target = createHttpServer((_request, response) => {
    checksOfTarget += 1;
    response.setHeader('content-type', 'application/json');
    response.end('{"status":"healthy"}');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/health`;
  registry = await startRegistry({ nats, env: as('registry-api') });
  prober = await startApp('health-prober', {
    env: { ...as('health-prober'), PROBE_CONCURRENCY: '4', BEACON_RESYNC_INTERVAL: '2' },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
});

afterAll(async () => {
  // Refusing new connections and hanging up the held ones ends the black holes' checks at
  // once, so the prober stops without waiting out their timeouts.
  for (const server of blackHoles) server.close();
  for (const socket of heldSockets) socket.destroy();
  await prober?.stop();
  await registry?.dispose();
  await nats?.dispose();
  target?.close();
});

describe('black holes cannot starve the prober (PROBE_CONCURRENCY=4)', () => {
  it('keeps checking a service that answers while five black holes hold every slot they may', async () => {
    const healthy = await registry.register({
      name: uniqueName('answers'),
      host: '127.0.0.1',
      port: 80,
      ttl: TTL_S,
      health_check_url: targetUrl,
      health_check_interval: 1,
      health_check_timeout: 2,
    });
    await waitFor('the answering service to be checked', async () => (await status(healthy)).health === 'healthy');

    for (let n = 2; n <= 6; n += 1) {
      const hole = await startBlackHole(`127.0.0.${n}`);
      blackHoles.push(hole.server);
      await registry.register({
        name: uniqueName('black-hole'),
        host: `127.0.0.${n}`,
        port: 80,
        ttl: 300,
        health_check_url: hole.url,
        health_check_interval: 1,
        health_check_timeout: BLACK_HOLE_TIMEOUT_S,
      });
    }

    // The attack is on: the black holes hold 3 slots (all that new and slow targets may),
    // and the rest of them wait. In arrival order they would have taken the 4th too.
    const held = await waitFor('the black holes to hold their slots', async () => {
      const metrics = await proberMetrics();
      const unproven =
        (metrics.get('beacon_probe_lane_in_flight{lane="new"}') ?? 0) + (metrics.get('beacon_probe_lane_in_flight{lane="slow"}') ?? 0);
      const waiting = metrics.get('beacon_probes_waiting') ?? 0;
      return unproven === 3 && waiting >= 2 && heldSockets.size >= 3 ? { unproven, waiting } : undefined;
    });
    expect(held.unproven).toBe(3);

    // Longer than one black-hole timeout and than the ttl: unchecked, the service would expire.
    const before = checksOfTarget;
    const seen = new Set<string>();
    const until = Date.now() + (BLACK_HOLE_TIMEOUT_S + 1) * 1000;
    while (Date.now() < until) {
      const now = await status(healthy);
      seen.add(`${now.status}/${now.health}`);
      await sleep(500);
    }
    expect([...seen]).toEqual(['active/healthy']);
    // Every second (± jitter) for 16 s: at least half of those checks, where arrival order gave about one.
    expect(checksOfTarget - before).toBeGreaterThanOrEqual(8);

    // And the black holes did run into their timeouts meanwhile: they were checked, with slots of their own.
    const after = await proberMetrics();
    expect(after.get('beacon_probes_total{outcome="timeout"}')).toBeGreaterThanOrEqual(3);
    expect(prober.child.exitCode).toBeNull();
  });
});
