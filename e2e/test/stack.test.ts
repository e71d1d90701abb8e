import type { Service } from '@beacon/contracts';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, findBinary, launch, SseClient, WsClient, freePorts, register, waitFor, type Launcher } from '@beacon/testing';

/**
 * The README's start command end to end: `scripts/start.mjs` (what `./beacon.sh start` runs
 * after installing and building) brings up nats-server, the six apps (in one process, the
 * default BEACON_MODE=single) and nginx with deploy/nginx/beacon.conf; everything a client
 * does goes through the gateway's one port, and each app keeps its own internal port.
 */

const nginx = findBinary('nginx');
const natsServer = findBinary('nats-server');

/** Every port the launcher takes, free on loopback now. */
async function ports(): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await freePorts()).map(([name, value]) => [name, Number(value)]));
}

const asEnv = (values: Record<string, number>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [key, String(value)]));

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(false)));
  });
}

/** The IPv4 addresses listening on `port` (from /proc/net/tcp: state 0A is LISTEN). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`))
    .map((fields) => {
      const hex = (fields[1] as string).split(':')[0] as string;
      // Little-endian on x86: the last byte pair is the first octet.
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

describe.skipIf(!nginx || !natsServer)(
  `the whole stack behind nginx (./beacon.sh start)${!nginx ? ' — skipped: nginx is not installed (apt-get install nginx)' : ''}${!natsServer ? ' — skipped: nats-server is not installed' : ''}`,
  () => {
    let dataDir: string;
    let port: Record<string, number>;
    let stack: Launcher;
    let base: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'beacon-stack-'));
      port = await ports();
      stack = launch({ ...asEnv(port), BEACON_DATA_DIR: dataDir, BEACON_NGINX: '1' });
      base = `http://127.0.0.1:${port.BEACON_PORT}`;
      await Promise.race([
        waitFor('"Beacon is up" from the launcher', () => stack.output().includes('Beacon is up on'), 90_000, 200),
        stack.exited.then((code) => {
          throw new Error(`the launcher exited (${code}) before the stack was up:\n${stack.output()}`);
        }),
      ]);
    }, 120_000);

    afterAll(async () => {
      if (stack && stack.child.exitCode === null) {
        stack.child.kill('SIGKILL');
        await stack.exited;
      }
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('serves the API, its docs, the health endpoints and the dashboard on one base URL', async () => {
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('server')).toMatch(/^nginx/);
      expect(((await (await fetch(`${base}/api/v1/health`)).json()) as { status: string }).status).toBe('healthy');
      expect((await fetch(`${base}/api/docs-json`)).status).toBe(200);
      const dashboard = await fetch(`${base}/`);
      expect(dashboard.headers.get('content-type')).toMatch(/text\/html/);
      expect(await dashboard.text()).toContain('<html');
      // Metrics are for Prometheus on each app's port, not for whoever reaches the gateway.
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(404);
      expect(((await metrics.json()) as { detail: string }).detail).toMatch(/own port/);
    });

    it('answers a body over the limit with a JSON 413, and nothing reaches the registry', async () => {
      const response = await fetch(`${base}/api/v1/services/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'too-big', host: '10.0.0.1', port: 80, metadata: { blob: 'x'.repeat(1_100_000) } }),
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/too large/);
      const listed = (await (await fetch(`${base}/api/v1/services?name=too-big`)).json()) as { total: number };
      expect(listed.total).toBe(0);
    });

    it('registers through the gateway and delivers service_registered, then service_expired, over WebSocket and SSE', async () => {
      const socket = await WsClient.connect(`ws://127.0.0.1:${port.BEACON_PORT}/api/v1/ws`);
      const stream = await SseClient.connect(`${base}/api/v1/events`);
      expect(stream.status).toBe(200);
      expect(stream.contentType).toMatch(/text\/event-stream/);
      await waitFor('the SSE greeting', () => stream.events.some((e) => e.data.type === 'connection_established'));
      try {
        const name = `e2e-${Date.now()}`;
        const service = await register(base, { name, type: 'iot', host: '192.0.2.10', port: 8080, ttl: 10 });
        const heardOnBoth = (type: string) => (): boolean =>
          socket.forService(service.service_id).some((m) => m.type === type) &&
          stream.events.some((e) => e.data.type === type && e.data.data?.service_id === service.service_id);
        await waitFor('service_registered on both', heardOnBoth('service_registered'));
        // TTL 10 s, no heartbeat: ttl-reaper expires it on time and both streams hear it.
        await waitFor('service_expired on both', heardOnBoth('service_expired'), 30_000, 200);
        const after = (await (await fetch(`${base}/api/v1/services/${service.service_id}`)).json()) as Service;
        expect(after.status).toBe('expired');
      } finally {
        socket.close();
        stream.close();
      }
    }, 60_000);

    it('runs the six apps in one process', () => {
      expect(stack.output().match(/apps started \(pid \d+\)/g)).toHaveLength(1);
      expect(stack.output()).not.toMatch(/(registry-api|ttl-reaper|realtime-gateway) started \(pid/);
    });

    it('serves every app’s /health, /ready and /metrics on its own port, each connected to NATS, no app’s series in another’s', async () => {
      const own = {
        'registry-api': port.REGISTRY_PORT,
        'ttl-reaper': port.REAPER_HTTP_PORT,
        'health-prober': port.PROBER_HTTP_PORT,
        'mdns-announcer': port.ANNOUNCER_HTTP_PORT,
        'realtime-gateway': port.GATEWAY_HTTP_PORT,
        'node-role-elector': port.ELECTOR_PORT,
      };
      for (const [app, appPort] of Object.entries(own)) {
        expect((await fetch(`http://127.0.0.1:${appPort}/health`)).status, app).toBe(200);
        expect((await fetch(`http://127.0.0.1:${appPort}/ready`)).status, app).toBe(200);
        const response = await fetch(`http://127.0.0.1:${appPort}/metrics`);
        expect(response.status, app).toBe(200);
        const text = await response.text();
        expect(text, app).toContain(`beacon_nats_connected{app="${app}"} 1`);
        for (const other of Object.keys(own).filter((name) => name !== app))
          expect(text, `${other} in ${app}'s`).not.toContain(`app="${other}"`);
      }
      // The service registered above went through registry-api and out through the gateway.
      const registry = await (await fetch(`http://127.0.0.1:${port.REGISTRY_PORT}/metrics`)).text();
      expect(registry).toMatch(/beacon_http_requests_total\{method="POST",route="\/api\/v1\/services\/register",status="201"[^}]*\} [1-9]/);
      const gateway = await (await fetch(`http://127.0.0.1:${port.GATEWAY_HTTP_PORT}/metrics`)).text();
      expect(gateway).toMatch(/beacon_gateway_messages_sent_total\{transport="sse"[^}]*\} [1-9]/);
    });

    it('runs the README\'s "Try it" examples as written, through the gateway', async () => {
      const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
      const start = readme.indexOf('\n## Try it\n');
      const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
      const examples = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
      expect(examples).toContain('http://localhost:8097/api/v1/services/register');
      const script = examples
        .replaceAll('localhost:8097', `127.0.0.1:${port.BEACON_PORT}`)
        .replaceAll('127.0.0.1:8097', `127.0.0.1:${port.BEACON_PORT}`);
      const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\n${script}`], { timeout: 30_000 });
      expect(stdout).toContain('"discovery_method":"api"');
      // The health check of that example went from health-prober through nginx to registry-api.
      expect(stdout).toMatch(/"result":\{[^}]*"outcome":"healthy"/);
      expect(stdout.trim().endsWith('204')).toBe(true);
    });

    it('listens on every interface only where the LAN is served: the gateway and the elector; NATS and the other apps on loopback', async () => {
      const lan = ['BEACON_PORT', 'ELECTOR_PORT'];
      for (const [name, number] of Object.entries(port)) {
        const bound = await waitFor(`something listening on ${name}`, () => {
          const found = listeners(number);
          return found.length > 0 ? found : undefined;
        });
        expect(bound, name).toEqual([lan.includes(name) ? '0.0.0.0' : '127.0.0.1']);
      }
    });

    it('stops everything on Ctrl-C (SIGINT): gateway, apps (realtime-gateway first, registry-api last), then NATS, every port free again', async () => {
      stack.child.kill('SIGINT');
      expect(await stack.exited).toBe(0);
      const output = stack.output();
      const order = ['nginx stopped', 'realtime-gateway stopped', 'registry-api stopped', 'apps stopped', 'nats stopped'].map((line) =>
        output.indexOf(line),
      );
      expect(
        order.every((index) => index >= 0),
        output.slice(-3000),
      ).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      for (const [name, each] of Object.entries(port)) expect(await portInUse(each), `${name} ${each}`).toBe(false);
    }, 60_000);
  },
);

describe.skipIf(!natsServer)('the launcher refuses clearly', () => {
  it('names the port that is taken and the variable that moves it', async () => {
    const port = await ports();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port.GATEWAY_HTTP_PORT, '0.0.0.0', () => resolve()));
    try {
      const stack = launch({ ...asEnv(port), BEACON_DATA_DIR: join(tmpdir(), 'beacon-unused'), BEACON_NGINX: '0' });
      expect(await stack.exited).toBe(1);
      expect(stack.output()).toContain(
        `port ${port.GATEWAY_HTTP_PORT} (realtime-gateway) is in use: stop what listens there, or set GATEWAY_HTTP_PORT=<free port>`,
      );
      expect(stack.output()).not.toContain('Beacon is up');
    } finally {
      squatter.close();
    }
  });

  it('will not put Beacon on a NATS server that lets anyone in (someone else started it on the port first)', async () => {
    const port = await ports();
    const natsPort = port.BEACON_NATS_PORT as number;
    const squatter = spawn(natsServer as string, ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
    try {
      await waitFor('the squatting nats-server', () => portInUse(natsPort));
      const stack = launch({ ...asEnv(port), BEACON_DATA_DIR: join(tmpdir(), 'beacon-unused'), BEACON_NGINX: '0' });
      expect(await stack.exited).toBe(1);
      expect(stack.output()).toContain(
        `a NATS server without authentication already listens on ${natsPort}; Beacon will not put its control plane on it`,
      );
      expect(stack.output()).not.toContain('Beacon is up');
    } finally {
      squatter.kill('SIGKILL');
    }
  });

  it('says how to get nats-server when it is missing', async () => {
    const port = await ports();
    const stack = launch({
      ...asEnv(port),
      BEACON_DATA_DIR: join(tmpdir(), 'beacon-unused'),
      BEACON_NGINX: '0',
      NATS_SERVER_BIN: '/nonexistent/nats-server',
    });
    expect(await stack.exited).toBe(1);
    expect(stack.output()).toContain(
      'nats-server is not installed: run ./beacon.sh start (installs it), or sudo apt-get install nats-server, or set NATS_URL',
    );
    expect(stack.output()).not.toContain('Beacon is up');
  });
});
