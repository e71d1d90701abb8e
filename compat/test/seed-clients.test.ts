import { netnsUnavailable, startApp, waitFor, findBinary, type AppProcess } from '@beacon/testing';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BEACON_PORT,
  COMPAT,
  PYTHON,
  jsonDocuments,
  runDriver,
  runOn,
  section,
  startLanStack,
  watchStatus,
  type DriverLine,
  type LanStack,
} from './lan-stack';

/**
 * Every client snippet of the seed documents, copied verbatim into compat/seed-*, run as printed
 * against the whole stack (`node scripts/start.mjs` with nginx) on one host of a netns LAN, from
 * the other host, as another machine on the LAN would. Each flow asserts what its client relies
 * on: the status codes, the fields it reads, and a service kept `active` by the client's own
 * heartbeats (TTL 10 s, the minimum; watched every second from outside for over two TTLs).
 */

function skipReason(): string | null {
  const netns = netnsUnavailable();
  if (netns) return netns;
  if (!findBinary('nginx')) return 'nginx is not installed (apt-get install nginx)';
  if (!findBinary('nats-server')) return 'nats-server is not installed (apt-get install nats-server)';
  for (const module of ['aiohttp', 'httpx', 'zeroconf', 'yaml']) {
    if (spawnSync(PYTHON, ['-c', `import ${module}`]).status !== 0)
      return `python3-${module} is not installed (apt-get install python3-${module})`;
  }
  for (const tool of ['jq', 'curl']) if (!findBinary(tool)) return `${tool} is not installed (apt-get install ${tool})`;
  return null;
}

const skip = skipReason();
/** The seeds' own base URL: beacon.local resolves to the stack host on the client host. */
const SEED_URL = `http://beacon.local:${BEACON_PORT}`;
/** Heartbeats run this long: over two 10 s TTLs. */
const HEARTBEAT_SECONDS = 25;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface ServiceBody {
  service_id: string;
  name: string;
  type: string;
  host: string;
  port: number;
  status: string;
  ttl: number;
  tags: string[];
  metadata: Record<string, string>;
  health_check_url: string | null;
  expires_at: string;
  last_heartbeat: string | null;
  instance_id?: string | null;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers };
}

/**
 * What the outside watcher saw up to `until` (the driver's line saying it is about to deregister or
 * stop; `at` in epoch ms): the readings that were not `active` (with when, relative to the first),
 * and whether the readings span two TTLs (20 s).
 */
function keptActive(readings: { at: number; status: string }[], until: DriverLine) {
  const before = readings.filter((reading) => reading.at < (until.at as number));
  const first = before[0]?.at ?? 0;
  return {
    notActive: before
      .filter((reading) => reading.status !== 'active')
      .map((reading) => `${reading.status} at +${((reading.at - first) / 1000).toFixed(1)} s`),
    // Readings come every second; under load a few may be late, but they must span two TTLs.
    overTwoTtls: before.length >= 15 && (before.at(-1)?.at ?? 0) - first >= 20_000,
  };
}

/** Seed 000's heartbeat reply ("API Documentation › PUT /api/v1/services/{service_id}/heartbeat"). */
const heartbeatReply = (serviceId: string) => ({
  service_id: serviceId,
  status: 'active',
  expires_at: expect.any(String),
  last_heartbeat: expect.any(String),
  message: 'Heartbeat received successfully',
});

describe.skipIf(skip !== null)(
  `seed 000 and 001 clients, as printed, against the stack on a LAN${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let stack: LanStack;
    /** Drivers whose process group outlives them (register-service.sh's heartbeat loop). */
    const groups: ChildProcess[] = [];
    /** The Heartbeat Implementation's service, left to expire (no deregister in that class). */
    let resolveAbandoned!: (id: string) => void;
    /** What `jq '.memory'` printed in the troubleshooting run (undefined: it did not run). */
    let memory: unknown;
    const abandonedId = new Promise<string>((resolve) => (resolveAbandoned = resolve));

    beforeAll(async () => {
      stack = await startLanStack();
    }, 120_000);

    afterAll(async () => {
      for (const child of groups) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (stack) expect(await stack.stop(), stack.output().slice(-3000)).toBe(0);
    }, 60_000);

    it.concurrent(
      'Python "Client Libraries" BeaconClient (aiohttp): register, heartbeat() keeps it active past two TTLs, discover, deregister → 404',
      async ({ expect }) => {
        const driver = runDriver(
          stack.clientHost,
          PYTHON,
          ['seed-000/drive_python_clients.py', 'client', SEED_URL, String(HEARTBEAT_SECONDS)],
          {
            PYTHONPATH: join(COMPAT, 'seed-000'),
          },
        );
        const registered = await driver.next('registered', 30_000);
        const id = registered.service_id as string;
        expect(id).toMatch(UUID);
        expect(registered.response).toMatchObject({ service_id: id, name: 'my-python-service', status: 'active', ttl: 10 });
        const watch = watchStatus(stack.base, id);
        const end = await driver.next('deregistering', (HEARTBEAT_SECONDS + 20) * 1000);
        const readings = await watch.stop();
        expect(driver.lines.filter((line) => line.event === 'heartbeat_error')).toEqual([]);
        const heartbeats = driver.lines.filter((line) => line.event === 'heartbeat');
        expect(heartbeats.length).toBeGreaterThanOrEqual(7);
        for (const heartbeat of heartbeats) expect(heartbeat.response).toMatchObject(heartbeatReply(id));
        expect(keptActive(readings, end)).toEqual({ notActive: [], overTwoTtls: true });
        const discovered = driver.lines.find((line) => line.event === 'discovered')!;
        expect(discovered.status).toBe(200);
        expect((discovered.body as { services: ServiceBody[] }).services.map((service) => service.service_id)).toContain(id);
        await driver.next('done');
        expect(await driver.exited, driver.output()).toBe(0);
        expect((await fetch(`${stack.base}/api/v1/services/${id}`)).status).toBe(404);
      },
      120_000,
    );

    it.concurrent(
      'Python "Heartbeat Implementation" BeaconClient: start_heartbeat(3) keeps it active past two TTLs; without a deregister it then expires',
      async ({ expect }) => {
        const driver = runDriver(
          stack.clientHost,
          PYTHON,
          ['seed-000/drive_python_clients.py', 'heartbeat-class', SEED_URL, String(HEARTBEAT_SECONDS)],
          {
            PYTHONPATH: join(COMPAT, 'seed-000'),
          },
        );
        const registered = await driver.next('registered', 30_000);
        const id = registered.service_id as string;
        expect(registered.response).toMatchObject({ service_id: id, name: 'compat-py-heartbeat', status: 'active', ttl: 10 });
        resolveAbandoned(id);
        const watch = watchStatus(stack.base, id);
        const end = await driver.next('stopping', (HEARTBEAT_SECONDS + 20) * 1000);
        const readings = await watch.stop();
        // The loop prints "Heartbeat failed: ..." only for exceptions; a 4xx reply is swallowed (seed defect).
        expect(driver.plain.filter((line) => line.startsWith('Heartbeat failed'))).toEqual([]);
        expect(keptActive(readings, end)).toEqual({ notActive: [], overTwoTtls: true });
        const discovered = driver.lines.find((line) => line.event === 'discovered')!;
        expect(discovered.status).toBe(200);
        expect((discovered.body as { services: ServiceBody[] }).services.map((service) => service.service_id)).toContain(id);
        const stopped = await driver.next('stopped');
        expect(stopped.has_deregister, 'the printed class has no deregister (seed defect)').toBe(false);
        // Its heartbeats stopped: ttl-reaper expires it on time (TTL 10 s).
        await waitFor(
          'the abandoned service to expire',
          async () => (await getJson<ServiceBody>(`${stack.base}/api/v1/services/${id}`)).body.status === 'expired',
          20_000,
          500,
        );
        expect(await driver.exited).toBe(0);
      },
      120_000,
    );

    it.concurrent(
      'Python "Service Integration" ServiceWithBeacon fails on shutdown as printed and leaves its service registered (seed defect)',
      async ({ expect }) => {
        const driver = runDriver(stack.clientHost, PYTHON, ['seed-000/drive_python_clients.py', 'service-with-beacon', SEED_URL, '0'], {
          PYTHONPATH: join(COMPAT, 'seed-000'),
        });
        await driver.next('done', 60_000);
        const runs = driver.lines.filter((line) => line.event === 'lifespan');
        const byVariant = Object.fromEntries(runs.map((run) => [run.variant, run])) as Record<string, DriverLine>;
        // With the "Client Libraries" class: register(self.config) passes the dict positionally to
        // register(self, **service_config), a TypeError before anything is sent. (Had it registered,
        // it would next lack start_heartbeat, and deregister(self.service_id) takes no argument.)
        expect(byVariant['python-client']).toMatchObject({ ok: false, body_ran: false, error_type: 'TypeError', service_id: null });
        expect(String(byVariant['python-client']!.error)).toMatch(/register\(\) takes 1 positional argument but 2 were given/);
        // With the "Heartbeat Implementation" class: it runs, then has no deregister at all.
        expect(byVariant['heartbeat-class']).toMatchObject({ ok: false, body_ran: true, error_type: 'AttributeError' });
        expect(String(byVariant['heartbeat-class']!.error)).toMatch(/has no attribute 'deregister'/);
        expect(driver.plain).toContain(`Service registered with Beacon: ${String(byVariant['heartbeat-class']!.service_id)}`);
        // It registered my-microservice@192.168.1.50:8000 and never removed it.
        const id = byVariant['heartbeat-class']!.service_id as string;
        expect(id).toMatch(UUID);
        const left = await getJson<ServiceBody>(`${stack.base}/api/v1/services/${id}`);
        expect(left.status).toBe(200);
        expect(left.body).toMatchObject({
          name: 'my-microservice',
          host: '192.168.1.50',
          port: 8000,
          status: 'active',
          metadata: { version: '2.1.0', environment: 'production' },
        });
      },
      120_000,
    );

    it.concurrent(
      'JavaScript BeaconClient (axios): startHeartbeat keeps it active past two TTLs, discover, deregister; the Express usage registers and its SIGINT handler deregisters',
      async ({ expect }) => {
        const driver = runDriver(stack.clientHost, process.execPath, ['seed-000/drive-js-client.cjs', String(HEARTBEAT_SECONDS)]);
        const usage = await driver.next('usage-registered', 30_000);
        const usageId = usage.service_id as string;
        expect(usageId, driver.output()).toMatch(UUID);
        expect(driver.plain).toContain('Server running on port 8080');
        expect(driver.plain).toContain(`Registered as: ${usageId}`);
        const printed = await getJson<ServiceBody>(`${stack.base}/api/v1/services/${usageId}`);
        expect(printed.body).toMatchObject({
          name: 'my-node-service',
          type: 'api',
          host: '192.168.1.100',
          port: 8080,
          health_check_url: 'http://192.168.1.100:8080/health',
          tags: ['nodejs', 'express', 'production'],
        });

        const registered = await driver.next('registered', 30_000);
        const id = registered.service_id as string;
        expect(registered.response).toMatchObject({ service_id: id, name: 'compat-js-heartbeat', status: 'active', ttl: 10 });
        const watch = watchStatus(stack.base, id);
        const end = await driver.next('deregistering', (HEARTBEAT_SECONDS + 20) * 1000);
        const readings = await watch.stop();
        expect(driver.plain.filter((line) => line.startsWith('Heartbeat failed'))).toEqual([]);
        expect(driver.plain.filter((line) => line === 'Heartbeat sent successfully').length).toBeGreaterThanOrEqual(7);
        expect(keptActive(readings, end)).toEqual({ notActive: [], overTwoTtls: true });
        const discovered = driver.lines.find((line) => line.event === 'discovered')!;
        expect(discovered.status).toBe(200);
        expect((discovered.body as { services: ServiceBody[] }).services.map((service) => service.service_id)).toContain(id);
        await driver.next('ready-for-sigint');
        expect(driver.plain).toContain('Service deregistered');
        expect((await fetch(`${stack.base}/api/v1/services/${id}`)).status).toBe(404);

        // Ctrl-C: the printed handler deregisters the Express service and exits 0.
        driver.child.kill('SIGINT');
        expect(await driver.exited).toBe(0);
        expect(driver.plain).toContain('Shutting down...');
        expect(driver.plain.filter((line) => line === 'Service deregistered').length).toBe(2);
        expect((await fetch(`${stack.base}/api/v1/services/${usageId}`)).status).toBe(404);
      },
      120_000,
    );

    it.concurrent(
      'register-service.sh as printed: registers (jq -r .service_id), stores the id, and its heartbeat loop lands',
      async ({ expect }) => {
        // Its loop sleeps 60 s between heartbeats; run-register-service.sh makes exactly `sleep 60`
        // last 3 s through a `sleep` earlier on PATH (time shortened from outside; the script is unchanged).
        const driver = runDriver(
          stack.clientHost,
          'bash',
          ['seed-000/run-register-service.sh'],
          { BEACON_URL: SEED_URL, COMPAT_HEARTBEAT_SECONDS: '3' },
          true,
        );
        groups.push(driver.child);
        expect(await driver.exited, driver.output()).toBe(0);
        const output = driver.output();
        const hostnameI = /^hostname -i: (.*)$/m.exec(output)?.[1];
        const id = /^Registered as: (.*)$/m.exec(output)?.[1];
        expect(id, output).toMatch(UUID);
        expect(output).toContain(`id file: ${id}`);
        const service = await getJson<ServiceBody>(`${stack.base}/api/v1/services/${id}`);
        expect(service.status).toBe(200);
        // The script registers whatever `hostname -i` says: on this machine (and on a stock Debian,
        // 127.0.1.1; in a container, the bridge address) that is not an address the LAN can reach.
        expect(service.body).toMatchObject({
          name: 'my-service',
          type: 'api',
          host: hostnameI,
          port: 8080,
          protocol: 'http',
          ttl: 300,
          tags: ['production', 'api'],
          status: 'active',
        });
        const first = service.body.last_heartbeat;
        // Two heartbeats land: last_heartbeat moves, and curl printed two heartbeat replies.
        await waitFor(
          "two heartbeats from the script's loop",
          () => {
            const replies = jsonDocuments(driver.output().slice(driver.output().indexOf('id file:'))) as { message?: string }[];
            return replies.filter((reply) => reply.message !== undefined).length >= 2 && replies;
          },
          20_000,
          200,
        ).then((replies) => {
          for (const reply of replies) expect(reply).toMatchObject(heartbeatReply(id!));
        });
        const after = await getJson<ServiceBody>(`${stack.base}/api/v1/services/${id}`);
        expect(after.body.last_heartbeat).not.toBe(first);
        expect(after.body.status).toBe('active');
        process.kill(-driver.child.pid!, 'SIGKILL');
      },
      60_000,
    );

    it.concurrent(
      "the README's curl examples: health-check registration, manual registration + heartbeat, the troubleshooting reads",
      async ({ expect }) => {
        const run = runOn(stack.clientHost, 'bash', ['seed-000/run-curl-examples.sh']);
        expect(run.status, run.stderr).toBe(0);
        const [checked] = jsonDocuments(section(run.stdout, 'register-with-health-checks')) as ServiceBody[];
        expect(checked).toMatchObject({
          name: 'my-service',
          host: '192.168.1.100',
          port: 8080,
          health_check_url: 'http://192.168.1.100:8080/health',
          status: 'active',
        });
        expect(checked!.service_id).toMatch(UUID);
        const [manual, heartbeat] = jsonDocuments(section(run.stdout, 'register-manual-heartbeat')) as [ServiceBody, { message: string }];
        // The same name, host and port: the manual registration updates that record (same id).
        expect(manual).toMatchObject({ service_id: checked!.service_id, name: 'my-service', ttl: 300, status: 'active' });
        expect(heartbeat).toMatchObject(heartbeatReply(checked!.service_id));
        const [expired, health] = jsonDocuments(section(run.stdout, 'troubleshooting-services-not-discovered')) as [
          { services: unknown[]; total: number },
          Record<string, unknown>,
        ];
        expect(expired).toMatchObject({ services: expect.any(Array), total: expect.any(Number) });
        expect(health).toMatchObject({
          status: 'healthy',
          version: expect.any(String),
          uptime: expect.any(Number),
          services: { total: expect.any(Number), active: expect.any(Number), expired: expect.any(Number), unhealthy: expect.any(Number) },
          mdns: { running: true, registered_services: expect.any(Number) },
          database: { connected: true, ping_ms: expect.any(Number) },
        });
        // The statuses those reads get (curl -s does not show them).
        expect((await fetch(`${stack.base}/api/v1/services/expired`)).status).toBe(200);
        expect((await fetch(`${stack.base}/api/v1/health`)).status).toBe(200);
      },
      60_000,
    );

    it.concurrent(
      "the compose files' registration commands, run as compose runs them: Option 1 registers with health checks; Pattern 1 never sends its body (seed defect); Pattern 2 registers and prints the id",
      async ({ expect }) => {
        interface Ran {
          argv: string[];
          exit: number | 'timeout';
          stdout: string;
          stderr: string;
        }
        const compose = (file: string, service: string, timeoutSeconds: number): Promise<Ran> => {
          const driver = runDriver(stack.clientHost, PYTHON, [
            'seed-000/run_compose_command.py',
            `seed-000/${file}`,
            service,
            String(timeoutSeconds),
          ]);
          return driver.exited.then((code) => {
            expect(code, driver.output()).toBe(0);
            return JSON.parse(driver.output().trim().split('\n').at(-1)!) as Ran;
          });
        };
        const [option1, pattern1, pattern2] = await Promise.all([
          compose('compose-health-check-registration.yml', 'beacon-registrar', 20),
          compose('compose-init-container.yml', 'beacon-register', 20),
          // Its command sleeps 10 s, registers, then sleeps forever: stopped after 16 s.
          compose('compose-sidecar.yml', 'health-monitor', 16),
        ]);

        expect(option1.exit, option1.stderr).toBe(0);
        expect(JSON.parse(option1.stdout)).toMatchObject({
          name: 'my-awesome-service',
          type: 'api',
          host: '192.168.1.100',
          port: 8080,
          protocol: 'http',
          tags: ['production', 'api', 'microservice'],
          ttl: 300,
          health_check_url: 'http://192.168.1.100:8080/health',
          health_check_interval: 30,
          health_check_timeout: 5,
          health_check_retries: 3,
          status: 'active',
        });

        // Pattern 1's `sh -c "curl ... register \n -H ... \n -d @- <<EOF ..."` has no line
        // continuations: sh runs `curl -X POST <url>` alone (no body, no Content-Type), then tries
        // commands named -H and -d. Beacon refuses the empty POST; nothing is registered.
        expect(pattern1.exit).toBe(127);
        expect(pattern1.stderr).toMatch(/-H: not found/);
        expect(pattern1.stderr).toMatch(/-d: not found/);
        expect(JSON.parse(pattern1.stdout)).toMatchObject({ detail: expect.any(String) });
        const sameName = await getJson<{ services: ServiceBody[] }>(`${stack.base}/api/v1/services?name=my-microservice`);
        expect(sameName.body.services.filter((service) => service.host === '192.168.1.100')).toEqual([]);

        expect(pattern2.exit).toBe('timeout');
        const id = /^Registered as: (\S+)$/m.exec(pattern2.stdout)?.[1];
        expect(id, pattern2.stdout + pattern2.stderr).toMatch(UUID);
        const sidecar = await getJson<ServiceBody>(`${stack.base}/api/v1/services/${id}`);
        expect(sidecar.body).toMatchObject({
          name: 'my-service',
          host: 'my-service',
          port: 8080,
          health_check_url: 'http://my-service:8080/health',
        });
      },
      60_000,
    );

    it.concurrent(
      'the ESP32 sketch\'s requests, byte for byte as HTTPClient sends them: POST → 201, PUT("") heartbeats → 200 keep it active past two TTLs',
      async ({ expect }) => {
        const { stackHost, clientHost } = stack;
        const driver = runDriver(clientHost, process.execPath, [
          'seed-000/esp32-replay.mjs',
          stackHost.ip,
          String(BEACON_PORT),
          clientHost.ip,
          String(HEARTBEAT_SECONDS),
        ]);
        const first = await driver.next('register', 30_000);
        // The sketch treats anything but 201 as failure.
        expect(first.status, String(first.body)).toBe(201);
        expect((first.headers as Record<string, string>).server).toMatch(/^nginx/);
        const registered = JSON.parse(first.body as string) as ServiceBody;
        expect(registered).toMatchObject({
          name: 'esp32-sensor',
          type: 'iot',
          host: clientHost.ip,
          port: 80,
          protocol: 'http',
          tags: ['sensor', 'temperature', 'humidity'],
          metadata: { device: 'ESP32', firmware: '1.0.0' },
          ttl: 300,
          status: 'active',
        });
        // The same JSON with "ttl": 10 (only so that two TTLs pass in test time): the same record.
        const second = await driver.next('register-ttl-10', 30_000);
        expect(second.status).toBe(201);
        const id = (JSON.parse(second.body as string) as ServiceBody).service_id;
        expect(id).toBe(registered.service_id);
        const watch = watchStatus(stack.base, id);
        const end = await driver.next('done', (HEARTBEAT_SECONDS + 20) * 1000);
        const readings = await watch.stop();
        const heartbeats = driver.lines.filter((line) => line.event === 'heartbeat');
        expect(new Set(heartbeats.map((heartbeat) => heartbeat.variant))).toEqual(new Set(['content-length-0', 'no-content-length']));
        for (const heartbeat of heartbeats) {
          expect(heartbeat.status, `${String(heartbeat.variant)}: ${String(heartbeat.body)}`).toBe(200);
          expect(JSON.parse(heartbeat.body as string)).toMatchObject(heartbeatReply(id));
        }
        expect(keptActive(readings, end)).toEqual({ notActive: [], overTwoTtls: true });
        expect(await driver.exited).toBe(0);
      },
      120_000,
    );

    it.concurrent(
      '_beacon._tcp.local. (the sketch\'s MDNS.queryService("beacon", "tcp")) leads a LAN client to the gateway\'s port, which answers the REST API',
      async ({ expect }) => {
        const { stackHost, clientHost } = stack;
        const browse = runOn(clientHost, PYTHON, [join(COMPAT, 'support', 'browse_beacon.py'), clientHost.ip, '20'], {}, 30_000);
        expect(browse.status, browse.stderr).toBe(0);
        const found = JSON.parse(browse.stdout) as {
          server: string;
          port: number;
          addresses: string[];
          properties: Record<string, string | null>;
        };
        expect(found.server).toBe('beacon.local.');
        expect(found.addresses).toEqual([stackHost.ip]);
        // Behind the gateway the advertised port is nginx's 8097, not registry-api's own 8096.
        expect(found.port).toBe(BEACON_PORT);
        const base = `http://${found.addresses[0]}:${found.port}`;
        const health = runOn(clientHost, 'curl', ['-s', '-i', `${base}/api/v1/health`]);
        expect(health.stdout).toMatch(/^HTTP\/1\.1 200/);
        expect(health.stdout).toMatch(/^Server: nginx/im);
        expect(JSON.parse(health.stdout.slice(health.stdout.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 'healthy' });
        const register = runOn(clientHost, 'curl', [
          '-s',
          '-w',
          '\n%{http_code}',
          '-X',
          'POST',
          `${base}/api/v1/services/register`,
          '-H',
          'Content-Type: application/json',
          '-d',
          JSON.stringify({ name: 'found-by-mdns', type: 'iot', host: clientHost.ip, port: 80, ttl: 60 }),
        ]);
        const [body, code] = register.stdout.split('\n');
        expect(code, body).toBe('201');
        expect(JSON.parse(body!)).toMatchObject({ name: 'found-by-mdns', status: 'active' });
      },
      60_000,
    );

    it.concurrent(
      'the Python zeroconf query example (ServiceBrowser on _mqtt._tcp.local.) sees an mqtt service with its SRV port and TXT records, and its goodbye',
      async ({ expect }) => {
        const { clientHost } = stack;
        const driver = runDriver(clientHost, PYTHON, ['seed-000/drive_zeroconf_query.py', clientHost.ip]);
        try {
          expect((await driver.next('ready', 20_000)).browser).toBe('ServiceBrowser');
          // Seed 000's type table: mqtt → _mqtt._tcp.local; the TXT keys as "TXT Record Structure" lists them.
          const registered = await getJson<ServiceBody>(`${stack.base}/api/v1/services/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              name: 'compat-broker',
              type: 'mqtt',
              host: '192.168.1.100',
              port: 1883,
              protocol: 'mqtt',
              tags: ['mqtt', 'broker'],
              metadata: { version: '2.0.18', description: 'Mosquitto for the greenhouse' },
              ttl: 60,
            }),
          });
          expect(registered.status).toBe(201);
          const id = registered.body.service_id;
          const added = await waitFor(
            'compat-broker on _mqtt._tcp',
            () =>
              driver.lines.find(
                (line) => line.event !== 'Removed' && String(line.name).startsWith('compat-broker.') && line.port !== undefined,
              ),
            20_000,
            100,
          );
          expect(added).toMatchObject({
            type: '_mqtt._tcp.local.',
            name: 'compat-broker._mqtt._tcp.local.',
            port: 1883,
            addresses: ['192.168.1.100'],
          });
          expect(added.properties).toMatchObject({
            service_id: id,
            name: 'compat-broker',
            type: 'mqtt',
            protocol: 'mqtt',
            version: '2.0.18',
            tags: 'mqtt,broker',
            description: 'Mosquitto for the greenhouse',
          });
          expect((await fetch(`${stack.base}/api/v1/services/${id}`, { method: 'DELETE' })).status).toBe(204);
          await waitFor(
            'the goodbye for compat-broker',
            () => driver.lines.find((line) => line.event === 'Removed' && line.name === 'compat-broker._mqtt._tcp.local.'),
            10_000,
            100,
          );
        } finally {
          driver.child.stdin!.end();
          await driver.exited;
        }
      },
      60_000,
    );

    it.concurrent(
      "seed 001: node-role-elector's /health and /discovery on port 9999, as an agent reads them; the advertised server answers Beacon's REST API",
      async ({ expect }) => {
        const { stackHost, clientHost } = stack;
        const read = (url: string) => {
          const result = runOn(clientHost, 'curl', ['-s', '-w', '\n%{http_code}', url]);
          const cut = result.stdout.lastIndexOf('\n');
          return { code: result.stdout.slice(cut + 1), body: JSON.parse(result.stdout.slice(0, cut)) as Record<string, unknown> };
        };
        const health = read(`http://${stackHost.ip}:9999/health`);
        expect(health.code).toBe('200');
        expect(health.body).toMatchObject({ status: 'ok' });
        const server = read(`http://${stackHost.ip}:9999/discovery`);
        expect(server.code).toBe('200');
        const nodeId = server.body.node_id as string;
        expect(nodeId).toMatch(/^.+-\d{10}$/); // seed 001's "hostname-1672531200"
        expect(server.body).toMatchObject({
          mode: 'server',
          server: { node_id: nodeId, host: stackHost.ip, port: BEACON_PORT },
          discovered_servers: {},
        });

        // An agent: a second elector on the stack host. (The launcher's NATS listens on loopback only,
        // so an elector on another host cannot join this NATS-backed election.)
        let agent: AppProcess | undefined;
        try {
          agent = await startApp('node-role-elector', {
            env: {
              NATS_URL: 'nats://127.0.0.1:4222',
              ...stack.natsIdentity('node-role-elector'),
              NODE_ID: 'compat-agent',
              ELECTOR_PORT: '9998',
            },
            portVariable: 'ELECTOR_PORT',
            readyPath: '/ready',
            netns: stackHost,
            timeoutMs: 30_000,
          });
          const discovery = read(`http://${stackHost.ip}:9998/discovery`);
          expect(discovery.code).toBe('200');
          expect(discovery.body).toMatchObject({
            node_id: 'compat-agent',
            mode: 'agent',
            server: { node_id: nodeId, host: stackHost.ip, port: BEACON_PORT },
          });
          const servers = discovery.body.discovered_servers as Record<string, Record<string, unknown>>;
          expect(Object.keys(servers)).toEqual([nodeId]);
          expect(servers[nodeId]).toEqual({
            host: stackHost.ip,
            port: BEACON_PORT,
            node_id: nodeId,
            mode: 'server',
            last_seen: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
          });
          const advertised = read(`http://${servers[nodeId]!.host as string}:${servers[nodeId]!.port as number}/api/v1/health`);
          expect(advertised.code).toBe('200');
          expect(advertised.body).toMatchObject({ status: 'healthy' });
        } finally {
          await agent?.stop();
        }
      },
      60_000,
    );

    // After the concurrent flows: it deletes expired services, which the flows above watch.
    it('the troubleshooting "High memory usage" commands: DELETE /api/v1/services/cleanup removes the expired', async () => {
      const id = await abandonedId;
      // Left without heartbeats (the Heartbeat Implementation has no deregister), it expires on time.
      await waitFor(
        'the abandoned service on /api/v1/services/expired',
        async () =>
          (await getJson<{ services: ServiceBody[] }>(`${stack.base}/api/v1/services/expired`)).body.services.some(
            (service) => service.service_id === id,
          ),
        30_000,
        500,
      );
      const run = runOn(stack.clientHost, 'bash', ['seed-000/run-troubleshooting-cleanup.sh']);
      expect(run.status, run.stderr).toBe(0);
      const output = section(run.stdout, 'troubleshooting-high-memory-usage');
      // jq prints `null` or the object (over several lines), then curl prints {"removed_count": n}.
      const documents = jsonDocuments(output);
      memory = output.startsWith('null') ? null : documents[0];
      expect((documents.at(-1) as { removed_count: number }).removed_count).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${stack.base}/api/v1/services/${id}`)).status).toBe(404);
      expect((await getJson<{ total: number }>(`${stack.base}/api/v1/services/expired`)).body.total).toBe(0);
      expect((await fetch(`${stack.base}/api/v1/services/cleanup`, { method: 'DELETE' })).status).toBe(200);
    }, 60_000);

    // `jq '.memory'` is the seed's own troubleshooting step ("Check service cache size"): seed 000's
    // "System Metrics" shows memory {used_mb, cache_size}.
    it("the same run's `curl .../api/v1/health | jq '.memory'` prints seed 000's memory {used_mb, cache_size}", () => {
      expect(memory, 'the cleanup test above ran').toBeDefined();
      expect(memory, "jq '.memory' of /api/v1/health").toMatchObject({ used_mb: expect.any(Number), cache_size: expect.any(Number) });
    });
  },
);

describe.skipIf(skip !== null)(
  `seed 004's httpx client and seed 001's LAN agent, against the stack with SERVICE_DISCOVERY_SECRET set and the elector on mDNS${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const SECRET = 'compat-seed-004-secret';
    let stack: LanStack;
    let dir: string;
    let healthFile: string;
    let healthServer: ChildProcess;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'beacon-compat-004-'));
      healthFile = join(dir, 'health.json');
      writeFileSync(healthFile, JSON.stringify({ status: 'healthy', load_percentage: 0.3 }));
      // The secret applies to every write, so seed 000's clients (which send none) run on their own
      // stack above. DISCOVERY_BACKEND=mdns: seed 001's "two laptops on WiFi", an agent on the other host.
      stack = await startLanStack({ SERVICE_DISCOVERY_SECRET: SECRET, DISCOVERY_BACKEND: 'mdns' });
      // Seed 004's service says it lives at localhost:8080: the stack host's own loopback.
      healthServer = stack.stackHost.spawn(process.execPath, [join(COMPAT, 'support', 'health_server.mjs'), healthFile], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let said = '';
      healthServer.stdout!.on('data', (chunk: Buffer) => (said += chunk.toString()));
      await waitFor('the health server', () => said.includes('listening'), 10_000);
    }, 120_000);

    afterAll(async () => {
      healthServer?.kill('SIGKILL');
      if (stack) expect(await stack.stop(), stack.output().slice(-3000)).toBe(0);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('register_service → the record is on /api/v1/services too; a check at load 0.3 puts it in /healthy; send_heartbeat; at load 0.95 it leaves /healthy; writes without the secret → 401', async () => {
      const auth = { authorization: `Bearer ${SECRET}` };
      const driver = runDriver(stack.clientHost, PYTHON, ['seed-004/drive_discovery_client.py'], {
        PYTHONPATH: join(COMPAT, 'seed-004'),
        SERVICE_DISCOVERY_SECRET: SECRET,
      });
      const ask = async (command: string): Promise<DriverLine> => {
        const count = driver.lines.filter((line) => line.event === command).length;
        driver.child.stdin!.write(`${command}\n`);
        return waitFor(
          `${command} from the seed 004 client`,
          () => driver.lines.filter((line) => line.event === command)[count],
          20_000,
          50,
        );
      };
      try {
        await driver.next('ready', 20_000);
        const registered = await ask('register');
        expect(registered.error).toBeUndefined();
        const instance = registered.result as Record<string, unknown>;
        expect(instance).toMatchObject({
          service_id: expect.stringMatching(UUID),
          service_name: 'my-service',
          instance_id: 'instance-1',
          host: 'localhost',
          port: 8080,
          health_endpoint: '/health',
          health_check_url: 'http://localhost:8080/health',
          metadata: { version: '1.0.0' },
        });
        const id = instance.service_id as string;
        // The same record, through seed 000's API.
        const record = await getJson<ServiceBody>(`${stack.base}/api/v1/services/${id}`);
        expect(record.status).toBe(200);
        expect(record.body).toMatchObject({
          name: 'my-service',
          instance_id: 'instance-1',
          host: 'localhost',
          port: 8080,
          health_check_url: 'http://localhost:8080/health',
        });
        const listed = await getJson<{ services: ServiceBody[] }>(`${stack.base}/api/v1/services?name=my-service`);
        expect(listed.body.services.map((service) => service.service_id)).toEqual([id]);

        // A check now (health-prober, on the stack host, reaches localhost:8080 there).
        const check = async () => {
          const checked = await getJson<{ result: { outcome: string; load: number | null } }>(
            `${stack.base}/api/v1/services/${id}/health-check`,
            { method: 'POST', headers: auth },
          );
          expect(checked.status, JSON.stringify(checked.body)).toBe(200);
          return checked.body.result;
        };
        expect(await check()).toMatchObject({ outcome: 'healthy', load: 0.3 });
        const healthy = await ask('discover');
        expect(healthy.result).toMatchObject({ service_name: 'my-service', total: 1 });
        const [listedInstance] = (healthy.result as { instances: Record<string, unknown>[] }).instances;
        expect(listedInstance).toMatchObject({
          service_id: id,
          instance_id: 'instance-1',
          host: 'localhost',
          port: 8080,
          healthy: true,
          load_percentage: 0.3,
        });

        const heartbeat = await ask('heartbeat');
        expect(heartbeat.result).toMatchObject({
          message: 'Heartbeat received successfully',
          service_id: id,
          service_name: 'my-service',
          instance_id: 'instance-1',
          status: 'active',
          expires_at: expect.any(String),
          last_heartbeat: expect.any(String),
        });

        writeFileSync(healthFile, JSON.stringify({ status: 'healthy', load_percentage: 0.95 }));
        expect(await check()).toMatchObject({ load: 0.95 });
        const loaded = await ask('discover');
        expect(loaded.result).toMatchObject({ service_name: 'my-service', instances: [], total: 0 });
        const all = await getJson<{ instances: Record<string, unknown>[] }>(`${stack.base}/v1/discovery/services/my-service`);
        expect(all.body.instances).toEqual([expect.objectContaining({ instance_id: 'instance-1', healthy: false, load_percentage: 0.95 })]);

        // Writes need the secret; reads do not.
        const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
          fetch(`${stack.base}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify(body),
          });
        const registration = { service_name: 'my-service', instance_id: 'instance-2', host: 'localhost', port: 8081 };
        expect((await post('/v1/discovery/register', registration)).status).toBe(401);
        expect((await post('/v1/discovery/register', registration, { authorization: 'Bearer wrong' })).status).toBe(401);
        expect((await post('/v1/discovery/heartbeat', { service_name: 'my-service', instance_id: 'instance-1' })).status).toBe(401);
        expect((await fetch(`${stack.base}/v1/discovery/unregister/my-service/instance-1`, { method: 'DELETE' })).status).toBe(401);
        expect((await post('/api/v1/services/register', { name: 'no-secret', host: '10.0.0.1', port: 80 })).status).toBe(401);
        expect((await fetch(`${stack.base}/api/v1/services/${id}/heartbeat`, { method: 'PUT' })).status).toBe(401);
        expect((await fetch(`${stack.base}/v1/discovery/services/my-service/healthy`)).status).toBe(200);
        expect((await getJson<{ total: number }>(`${stack.base}/v1/discovery/services/my-service`)).body.total).toBe(1);
      } finally {
        driver.child.stdin!.end('quit\n');
        await driver.exited;
      }
    }, 120_000);
    it("seed 001 over mDNS: an elector started on the other host becomes agent; its /discovery names the stack host's server, which answers Beacon's REST API", async () => {
      const { stackHost, clientHost } = stack;
      // A starting mDNS elector listens for a server for ELECTION_MDNS_WINDOW (3 s) before it becomes one.
      const server = await waitFor(
        "the stack's elector to decide",
        async () => {
          const reply = await getJson<Record<string, unknown>>(`http://${stackHost.ip}:9999/discovery`);
          return reply.body.mode !== 'undecided' && reply;
        },
        15_000,
        200,
      );
      expect(server.body).toMatchObject({ mode: 'server', backend: 'mdns', server: { host: stackHost.ip, port: BEACON_PORT } });
      const serverId = server.body.node_id as string;
      // The elector as a second machine runs it: its own host, mDNS on its LAN interface, no NATS.
      const agent = await startApp('node-role-elector', {
        env: { DISCOVERY_BACKEND: 'mdns', MDNS_INTERFACE: clientHost.ip, ELECTOR_PORT: '9999' },
        portVariable: 'ELECTOR_PORT',
        readyPath: '/ready',
        netns: clientHost,
        timeoutMs: 30_000,
      });
      try {
        const health = await getJson<Record<string, unknown>>(`http://${clientHost.ip}:9999/health`);
        expect(health.status).toBe(200);
        const seen = await getJson<Record<string, unknown>>(`http://${clientHost.ip}:9999/discovery`);
        expect(seen.body).toMatchObject({
          mode: 'agent',
          backend: 'mdns',
          server: { node_id: serverId, host: stackHost.ip, port: BEACON_PORT },
        });
        expect(seen.body.node_id).not.toBe(serverId);
        const servers = seen.body.discovered_servers as Record<string, Record<string, unknown>>;
        expect(Object.keys(servers)).toEqual([serverId]);
        expect(servers[serverId]).toEqual({
          host: stackHost.ip,
          port: BEACON_PORT,
          node_id: serverId,
          mode: 'server',
          last_seen: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
        });
        const curl = runOn(clientHost, 'curl', [
          '-s',
          '-w',
          '\n%{http_code}',
          `http://${servers[serverId]!.host as string}:${servers[serverId]!.port as number}/api/v1/health`,
        ]);
        const [body, code] = curl.stdout.split('\n');
        expect(code).toBe('200');
        expect(JSON.parse(body!)).toMatchObject({ status: 'healthy' });
        // The stack's own elector still leads, and now knows of no other server.
        expect((await getJson<Record<string, unknown>>(`http://${stackHost.ip}:9999/discovery`)).body).toMatchObject({
          mode: 'server',
          node_id: serverId,
          discovered_servers: {},
        });
      } finally {
        await agent.stop();
      }
    }, 60_000);
  },
);
