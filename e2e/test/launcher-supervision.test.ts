import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  WsClient,
  findBinary,
  freePort,
  freePorts,
  launch as launchStack,
  startNatsServer,
  stopLauncher,
  waitFor,
  type Launcher,
  type NatsServerHandle,
} from '@beacon/testing';

/**
 * The launcher (scripts/start.mjs) as a supervisor: it restarts a process that dies, gives
 * up on one that dies at once every time, refuses a second start on its data directory by
 * naming the first, and writes no colour codes into a pipe. Without nginx, to stay light.
 * Both modes: BEACON_MODE=split (a process per app) and single (the default: the six apps
 * in one process, single/dist/main.js, restarted whole when any app in it fails).
 */

const natsServer = findBinary('nats-server');

function launch(env: Record<string, string>): Launcher {
  return launchStack({ BEACON_NGINX: '0', ...env });
}

/** Every port the launcher takes without nginx, free on loopback now. */
const ports = (): Promise<Record<string, string>> =>
  freePorts([
    'BEACON_PORT',
    'GATEWAY_HTTP_PORT',
    'REAPER_HTTP_PORT',
    'PROBER_HTTP_PORT',
    'ANNOUNCER_HTTP_PORT',
    'ELECTOR_PORT',
    'BEACON_NATS_PORT',
  ]);

async function untilUp(stack: Launcher): Promise<void> {
  await Promise.race([
    waitFor('"Beacon is up" from the launcher', () => stack.output().includes('Beacon is up'), 90_000, 200),
    stack.exited.then((code) => {
      throw new Error(`the launcher exited (${code}) before the stack was up:\n${stack.output()}`);
    }),
  ]);
}

/** The pids the launcher logged for `name` ("<name> started (pid N)", then "restarted"), in order. */
const pidsOf = (output: string, name: string): number[] =>
  [...output.matchAll(new RegExp(`${name} (?:started|restarted) \\(pid (\\d+)\\)`, 'g'))].map((match) => Number(match[1]));

const answers = async (url: string): Promise<boolean> => {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
};

const lib = async <T>(name: string): Promise<T> => (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'lib', name)).href)) as T;

interface RestartPolicy {
  next(ranMs: number): { delayMs: number; quickFailures: number; giveUp: boolean };
}

describe('the restart policy', () => {
  it('backs off 1, 2, 4, 8 s (capped at 30 s), starts over after a minute’s run, and gives up after 5 quick failures', async () => {
    const { createRestartPolicy } = await lib<{ createRestartPolicy: () => RestartPolicy }>('supervisor.mjs');
    const quick = createRestartPolicy();
    const steps = [1, 2, 3, 4, 5].map(() => quick.next(500));
    expect(steps.map((step) => step.delayMs)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(steps.map((step) => step.giveUp)).toEqual([false, false, false, false, true]);

    const slow = createRestartPolicy();
    const delays = [1, 2, 3, 4, 5, 6, 7].map(() => slow.next(20_000).delayMs);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    // 20 s runs are not quick failures: it never gives up on them.
    expect(slow.next(20_000).giveUp).toBe(false);
    // A run of a minute or more was healthy: the next death starts from 1 s again.
    expect(slow.next(61_000).delayMs).toBe(1000);
    // A run past 10 s between quick ones resets the count of failures in a row.
    const mixed = createRestartPolicy();
    for (let i = 0; i < 4; i += 1) mixed.next(100);
    mixed.next(15_000);
    expect([1, 2, 3, 4].map(() => mixed.next(100).giveUp)).toEqual([false, false, false, false]);
  });
});

describe('colour in the launcher’s log', () => {
  it('is on for a terminal only, off with NO_COLOR, and FORCE_COLOR decides over both', async () => {
    const { colorEnabled } = await lib<{ colorEnabled: (stream: { isTTY?: boolean }, env: Record<string, string>) => boolean }>(
      'colors.mjs',
    );
    const tty = { isTTY: true };
    const pipe = {};
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
  });
});

interface Lock {
  acquireLock(dataDir: string, info: Record<string, unknown>): { holder: { pid: number } | null; release(): void };
  lockPath(dataDir: string): string;
}

describe('the launcher’s pid file', () => {
  it('replaces one left by a launcher that is gone, or whose pid now belongs to another program', async () => {
    const lock = await lib<Lock>('lock.mjs');
    const dataDir = mkdtempSync(join(tmpdir(), 'beacon-lock-'));
    try {
      const gone = spawn('true');
      await new Promise((resolve) => gone.once('exit', resolve));
      // A pid that has exited, then a live one that is not a launcher (this test's own).
      for (const pid of [gone.pid, process.pid === 1 ? 2 : process.ppid]) {
        writeFileSync(lock.lockPath(dataDir), JSON.stringify({ pid, url: 'http://localhost:1' }));
        const taken = lock.acquireLock(dataDir, { url: 'http://localhost:2' });
        expect(taken.holder, `pid ${pid}`).toBeNull();
        expect(JSON.parse(readFileSync(lock.lockPath(dataDir), 'utf8'))).toMatchObject({ pid: process.pid, url: 'http://localhost:2' });
        taken.release();
        expect(existsSync(lock.lockPath(dataDir))).toBe(false);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!natsServer)('the launcher supervises the stack, one process per app (BEACON_MODE=split)', () => {
  let dataDir: string;
  let port: Record<string, string>;
  let stack: Launcher;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'beacon-supervise-'));
    port = await ports();
    stack = launch({ ...port, BEACON_DATA_DIR: dataDir, BEACON_MODE: 'split' });
    await untilUp(stack);
  }, 120_000);

  afterAll(async () => {
    await stopLauncher(stack);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes its log without colour codes when the output is not a terminal, keeping the prefixes', () => {
    expect(stack.output()).not.toContain('\x1b[');
    expect(stack.output()).toMatch(/^ttl-reaper {7}\| /m);
    expect(stack.output()).toMatch(/^beacon {11}\| Beacon is up/m);
  });

  it('records itself in BEACON_DATA_DIR/beacon.pid', () => {
    const recorded = JSON.parse(readFileSync(join(dataDir, 'beacon.pid'), 'utf8')) as Record<string, unknown>;
    expect(recorded).toMatchObject({ pid: stack.child.pid, url: `http://localhost:${port.BEACON_PORT}` });
  });

  it('answers a second start on the same data directory with where the first runs, touching no port', async () => {
    // The same ports: a launcher that looked at them first would blame one of them.
    const second = launch({ ...port, BEACON_DATA_DIR: dataDir, BEACON_MODE: 'split' });
    expect(await second.exited).toBe(1);
    const output = second.output();
    expect(output).toContain(`Beacon is already running on http://localhost:${port.BEACON_PORT} (launcher pid ${stack.child.pid},`);
    expect(output).not.toContain('in use');
    expect(output).not.toMatch(/started \(pid/);
    // The first is untouched, and still owns the data directory.
    expect(await answers(`http://127.0.0.1:${port.BEACON_PORT}/health`)).toBe(true);
    expect(JSON.parse(readFileSync(join(dataDir, 'beacon.pid'), 'utf8'))).toMatchObject({ pid: stack.child.pid });
  }, 30_000);

  it('restarts an app killed with kill -9, saying why, and the app answers again', async () => {
    const [first] = pidsOf(stack.output(), 'ttl-reaper');
    expect(first).toBeGreaterThan(0);
    process.kill(first as number, 'SIGKILL');
    await waitFor('the launcher saying why ttl-reaper died', () =>
      /ttl-reaper exited \(signal SIGKILL\) after [\d.]+ s; restarting it in 1\.0 s\. Its last lines:/.test(stack.output()),
    );
    const restarted = await waitFor('ttl-reaper restarted', () => pidsOf(stack.output(), 'ttl-reaper')[1], 10_000, 100);
    expect(restarted).not.toBe(first);
    await waitFor('ttl-reaper /health after the restart', () => answers(`http://127.0.0.1:${port.REAPER_HTTP_PORT}/health`), 30_000, 200);
    expect(stack.child.exitCode).toBeNull();
  }, 60_000);

  it('restarts nats-server killed with kill -9, and the apps connect to it again', async () => {
    const [first] = pidsOf(stack.output(), 'nats');
    process.kill(first as number, 'SIGKILL');
    await waitFor('nats restarted', () => pidsOf(stack.output(), 'nats')[1], 10_000, 100);
    expect(stack.output()).toMatch(/nats exited \(signal SIGKILL\) after [\d.]+ s; restarting it in 1\.0 s/);
    const connected = async (): Promise<boolean> => {
      const metrics = await (await fetch(`http://127.0.0.1:${port.BEACON_PORT}/metrics`)).text();
      return metrics.includes('beacon_nats_connected{app="registry-api"} 1');
    };
    await waitFor('registry-api connected to the new nats-server', connected, 30_000, 200);
    expect(stack.child.exitCode).toBeNull();
  }, 60_000);

  it('never restarts during shutdown: Ctrl-C while a restart is pending stops everything and exits 0', async () => {
    const pid = pidsOf(stack.output(), 'health-prober')[0] as number;
    process.kill(pid, 'SIGKILL');
    await waitFor('health-prober restart pending', () => stack.output().includes('health-prober exited (signal SIGKILL)'));
    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    // Past its 1 s backoff: no restart came.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pidsOf(stack.output(), 'health-prober')).toEqual([pid]);
    expect(stack.output()).toContain('nats stopped');
    expect(existsSync(join(dataDir, 'beacon.pid'))).toBe(false);
  }, 60_000);
});

describe.skipIf(!natsServer)('the launcher gives up on an app that dies at once', () => {
  it('after 5 quick failures in a row it stops the stack, exits 1 and shows that app’s last lines', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'beacon-giveup-'));
    try {
      // A value only ttl-reaper reads, and refuses at boot: it dies at once every time.
      const stack = launch({ ...(await ports()), BEACON_DATA_DIR: dataDir, REAPER_CONCURRENCY: '0', BEACON_MODE: 'split' });
      expect(await stack.exited).toBe(1);
      const output = stack.output();
      expect(output.match(/ttl-reaper exited \(code 1\)/g)?.length).toBe(5);
      expect(output).toMatch(/restarting it in 8\.0 s/);
      const verdict = output.slice(output.indexOf('5 failures in a row'));
      expect(verdict).toMatch(/^5 failures in a row, each within 10 s of its start; stopping Beacon\. Its last lines:/);
      // The last run's lines only: each earlier run's were shown when it died.
      expect(verdict.match(/REAPER_CONCURRENCY must be between 1 and 10000, got 0/g)?.length).toBe(1);
      expect(output).not.toContain('Beacon is up');
      expect(output).toContain('nats stopped');
      expect(existsSync(join(dataDir, 'beacon.pid'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Each app's port variable in the launcher's environment without nginx. */
const APP_PORTS = {
  'registry-api': 'BEACON_PORT',
  'ttl-reaper': 'REAPER_HTTP_PORT',
  'health-prober': 'PROBER_HTTP_PORT',
  'mdns-announcer': 'ANNOUNCER_HTTP_PORT',
  'realtime-gateway': 'GATEWAY_HTTP_PORT',
  'node-role-elector': 'ELECTOR_PORT',
} as const;

const APP_NAMES = Object.keys(APP_PORTS);

/** True once every app answers /ready on its own port. */
const everyAppReady = (port: Record<string, string>) => async (): Promise<boolean> =>
  (await Promise.all(Object.values(APP_PORTS).map((variable) => answers(`http://127.0.0.1:${port[variable]}/ready`)))).every(Boolean);

/**
 * Loaded into the single process only (NODE_OPTIONS reaches every node the launcher runs):
 * on SIGUSR2 it throws from a timer, as a bug in an app would, and nothing catches it.
 */
const CRASH_ON_SIGUSR2 = `
if ((process.argv[1] || '').endsWith(require('node:path').join('single', 'dist', 'main.js'))) {
  process.on('SIGUSR2', () => setImmediate(() => { throw new Error('boom: thrown in the single process and never caught'); }));
}
`;

describe.skipIf(!natsServer)('the launcher runs the six apps in one process (BEACON_MODE=single, the default)', () => {
  let dataDir: string;
  let port: Record<string, string>;
  let stack: Launcher;
  const singlePid = (): number => pidsOf(stack.output(), 'apps').at(-1) as number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'beacon-single-'));
    const preload = join(dataDir, 'crash-on-sigusr2.cjs');
    writeFileSync(preload, CRASH_ON_SIGUSR2);
    port = await ports();
    stack = launch({ ...port, BEACON_DATA_DIR: dataDir, NODE_OPTIONS: `--require ${preload}` });
    await untilUp(stack);
  }, 120_000);

  afterAll(async () => {
    await stopLauncher(stack);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts one process for the six apps, and logs each app’s lines under that app’s name, without colour codes', () => {
    const output = stack.output();
    expect(pidsOf(output, 'apps')).toHaveLength(1);
    for (const app of APP_NAMES) expect(pidsOf(output, app), app).toEqual([]);
    expect(output).not.toContain('\x1b[');
    for (const app of APP_NAMES) {
      const lines = output.split('\n').filter((line) => line.startsWith(`${app.padEnd(17)}| {`));
      expect(lines.length, app).toBeGreaterThan(0);
      for (const line of lines) expect((JSON.parse(line.slice(19)) as { app: string }).app, line).toBe(app);
    }
    expect(output).toMatch(/^beacon {11}\| Beacon is up/m);
  });

  it('serves each app’s /health, /ready and /metrics on its own port, the metrics from that app’s own registry', async () => {
    for (const [app, variable] of Object.entries(APP_PORTS)) {
      const base = `http://127.0.0.1:${port[variable]}`;
      expect((await fetch(`${base}/health`)).status, app).toBe(200);
      expect((await fetch(`${base}/ready`)).status, app).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics, app).toContain(`beacon_nats_connected{app="${app}"} 1`);
      // One registry per app: the same metric names, no other app's series in it.
      expect(metrics, app).toMatch(/^beacon_http_requests_total\{/m);
      for (const other of APP_NAMES.filter((name) => name !== app))
        expect(metrics, `${app} has ${other}'s`).not.toContain(`app="${other}"`);
    }
  });

  it('connects each app as its own NATS identity, with no password on its command line, in its environment or in the log', () => {
    const pid = singlePid();
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const channel = environ.split('\0').find((entry) => entry.startsWith('BEACON_APP_ENV='));
    const perApp = JSON.parse((channel as string).slice('BEACON_APP_ENV='.length)) as Record<string, Record<string, string>>;
    expect(Object.keys(perApp).sort()).toEqual([...APP_NAMES].sort());
    for (const app of APP_NAMES) {
      expect(perApp[app]?.NATS_USER, app).toBe(app);
      const file = perApp[app]?.NATS_PASSWORD_FILE as string;
      expect(file, app).toBe(join(dataDir, 'nats', 'secrets', `${app}.password`));
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(24);
      for (const [where, text] of Object.entries({ environ, cmdline, log: stack.output() })) {
        expect(text.includes(password), `${app}'s password in the ${where}`).toBe(false);
      }
    }
  });

  it('restarts the process killed with kill -9, saying why, and every app is ready again', async () => {
    const first = singlePid();
    process.kill(first, 'SIGKILL');
    await waitFor('the launcher saying why the apps died', () =>
      /apps exited \(signal SIGKILL\) after [\d.]+ s; restarting it in 1\.0 s\. Its last lines:/.test(stack.output()),
    );
    await waitFor('the apps restarted', () => pidsOf(stack.output(), 'apps')[1], 10_000, 100);
    expect(singlePid()).not.toBe(first);
    await waitFor('every app ready after the restart', everyAppReady(port), 30_000, 200);
    expect(stack.child.exitCode).toBeNull();
  }, 60_000);

  it('an exception nothing catches ends the process with code 1, and the launcher starts every app again', async () => {
    const before = singlePid();
    process.kill(before, 'SIGUSR2');
    await waitFor('the launcher saying the apps exited with code 1', () =>
      /apps exited \(code 1\) after [\d.]+ s; restarting it in [\d.]+ s\. Its last lines:/.test(stack.output()),
    );
    expect(stack.output()).toMatch(/beacon-single: uncaught exception: Error: boom: thrown in the single process and never caught/);
    await waitFor('the apps restarted', () => pidsOf(stack.output(), 'apps')[2], 15_000, 100);
    await waitFor('every app ready after the restart', everyAppReady(port), 30_000, 200);
    expect(stack.child.exitCode).toBeNull();
  }, 60_000);

  it('restarts nats-server killed with kill -9, and every app in the process connects to it again', async () => {
    const [first] = pidsOf(stack.output(), 'nats');
    const apps = singlePid();
    process.kill(first as number, 'SIGKILL');
    await waitFor('nats restarted', () => pidsOf(stack.output(), 'nats')[1], 10_000, 100);
    const connected = async (): Promise<boolean> => {
      for (const [app, variable] of Object.entries(APP_PORTS)) {
        const metrics = await (await fetch(`http://127.0.0.1:${port[variable]}/metrics`)).text();
        if (!metrics.includes(`beacon_nats_connected{app="${app}"} 1`)) return false;
      }
      return true;
    };
    await waitFor('every app connected to the new nats-server', connected, 30_000, 200);
    await waitFor('every app ready', everyAppReady(port), 30_000, 200);
    // NATS going away is not an app failing: the process rode it out.
    expect(singlePid()).toBe(apps);
  }, 60_000);

  it('stops on Ctrl-C: realtime-gateway first (WebSocket clients get 1001, SSE streams end), registry-api last, then NATS; exits 0', async () => {
    const gateway = `127.0.0.1:${port.GATEWAY_HTTP_PORT}`;
    const socket = await WsClient.connect(`ws://${gateway}/api/v1/ws`);
    const sse = await fetch(`http://${gateway}/api/v1/events`);
    expect(sse.status).toBe(200);
    // Read to the end: resolves once the gateway ends the stream, rejects if it is cut instead.
    const sseEnded = (async () => {
      for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>) void chunk;
      return 'ended';
    })().catch((error: unknown) => `cut: ${String(error)}`);
    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(await waitFor('the WebSocket closed', () => socket.closed, 5000, 50)).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(await sseEnded).toBe('ended');
    const output = stack.output();
    const order = ['realtime-gateway stopped', 'ttl-reaper stopped', 'registry-api stopped', 'apps stopped', 'nats stopped'].map((line) =>
      output.lastIndexOf(line),
    );
    expect(
      order.every((index) => index >= 0),
      output.slice(-3000),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(existsSync(join(dataDir, 'beacon.pid'))).toBe(false);
  }, 60_000);
});

describe('the launcher’s BEACON_MODE', () => {
  it('refuses a mode it does not know, naming both, before starting anything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'beacon-mode-'));
    try {
      const stack = launch({ ...(await ports()), BEACON_DATA_DIR: dataDir, BEACON_MODE: 'both' });
      expect(await stack.exited).toBe(1);
      expect(stack.output()).toContain(
        'BEACON_MODE=both is not a mode: single (the default: the apps in one process) or split (one process per app)',
      );
      expect(stack.output()).not.toMatch(/started \(pid/);
      expect(existsSync(join(dataDir, 'beacon.pid'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!natsServer)('the launcher gives up on the single process when an app in it fails to start every time', () => {
  it('restarts it with backoff, then after 5 quick failures stops, exits 1 and shows why, under the app’s name', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'beacon-single-giveup-'));
    try {
      const stack = launch({ ...(await ports()), BEACON_DATA_DIR: dataDir, REAPER_CONCURRENCY: '0' });
      expect(await stack.exited).toBe(1);
      const output = stack.output();
      expect(output.match(/apps exited \(code 1\)/g)?.length).toBe(5);
      expect(output).toMatch(/restarting it in 8\.0 s/);
      // The failure is the app's, and logged under its name (its continuation lines too).
      expect(output).toMatch(
        /^ttl-reaper {7}\| ttl-reaper: Invalid configuration:\nttl-reaper {7}\| +- REAPER_CONCURRENCY must be between 1 and 10000, got 0/m,
      );
      const verdict = output.slice(output.indexOf('5 failures in a row'));
      expect(verdict).toMatch(/^5 failures in a row, each within 10 s of its start; stopping Beacon\. Its last lines:/);
      // The last run's reason only: each earlier run's was shown when it died.
      expect(verdict.match(/- REAPER_CONCURRENCY must be between 1 and 10000, got 0/g)?.length).toBe(1);
      expect(output).not.toContain('Beacon is up');
      expect(output).toContain('nats stopped');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** single/dist/main.js on its own, as a container or a unit file could run it. */
const runSingle = (env: Record<string, string>): Launcher => launchStack(env, join('single', 'dist', 'main.js'));

describe.skipIf(!natsServer)('the single process on its own (single/dist/main.js)', () => {
  let nats: NatsServerHandle;

  beforeAll(async () => {
    nats = await startNatsServer({ auth: true });
  });

  afterAll(async () => {
    await nats?.dispose();
  });

  it('runs only the apps BEACON_APPS names, each as its own NATS identity, and stops them on SIGTERM with code 0', async () => {
    const reaperPort = await freePort();
    const proberPort = await freePort();
    const identity = (app: 'ttl-reaper' | 'health-prober') => {
      const { NATS_USER, NATS_PASSWORD_FILE } = nats.identities?.[app] as { NATS_USER: string; NATS_PASSWORD_FILE: string };
      return { NATS_USER, NATS_PASSWORD_FILE };
    };
    const single = runSingle({
      NATS_URL: nats.url,
      HTTP_HOST: '127.0.0.1',
      // Nest's own route listing is at debug: each app's must carry that app's name.
      LOG_LEVEL: 'debug',
      BEACON_APPS: 'ttl-reaper, health-prober',
      BEACON_APP_ENV: JSON.stringify({
        'ttl-reaper': { HTTP_PORT: String(reaperPort), ...identity('ttl-reaper') },
        'health-prober': { HTTP_PORT: String(proberPort), ...identity('health-prober') },
      }),
    });
    try {
      for (const each of [reaperPort, proberPort]) {
        await waitFor(`/health on ${each}`, () => answers(`http://127.0.0.1:${each}/health`), 30_000, 100);
        // Connected as itself; not ready, rightly: its catalog view waits for a registry-api.
        const ready = (await (await fetch(`http://127.0.0.1:${each}/ready`)).json()) as { checks: Record<string, boolean> };
        expect(ready.checks).toMatchObject({ nats: true, catalog_view: false });
      }
      const output = single.output();
      expect(output).toContain(`beacon-single: ttl-reaper, health-prober running in one process (pid ${single.child.pid})`);
      const lines = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { app: string; context?: string; msg: string });
      expect([...new Set(lines.map((line) => line.app))].sort()).toEqual(['health-prober', 'ttl-reaper']);
      // Nest keeps one logger per process; each line of its still names the app it is about.
      const mapped = lines.filter((line) => line.context === 'RouterExplorer' && line.msg === 'Mapped {/ready, GET} route');
      expect(mapped.map((line) => line.app).sort()).toEqual(['health-prober', 'ttl-reaper']);
      const reaperMetrics = await (await fetch(`http://127.0.0.1:${reaperPort}/metrics`)).text();
      const proberMetrics = await (await fetch(`http://127.0.0.1:${proberPort}/metrics`)).text();
      expect(reaperMetrics).toContain('beacon_nats_connected{app="ttl-reaper"} 1');
      expect(reaperMetrics).not.toContain('app="health-prober"');
      expect(proberMetrics).toContain('beacon_nats_connected{app="health-prober"} 1');
      expect(proberMetrics).not.toContain('app="ttl-reaper"');
      single.child.kill('SIGTERM');
      expect(await single.exited).toBe(0);
      expect(single.output()).toContain('"msg":"health-prober stopped"');
      expect(single.output()).toContain('"msg":"ttl-reaper stopped"');
    } finally {
      if (single.child.exitCode === null) single.child.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses an app name it does not know, before starting anything', async () => {
    const single = runSingle({ NATS_URL: nats.url, BEACON_APPS: 'ttl-reaper,registry' });
    expect(await single.exited).toBe(1);
    expect(single.output()).toContain(
      'BEACON_APPS: unknown app "registry"; use "all" or a comma-separated list of registry-api, ttl-reaper',
    );
    expect(single.output()).not.toContain('running in one process');
  });

  it('refuses a BEACON_APP_ENV that is not JSON without echoing it (it may hold something private)', async () => {
    const single = runSingle({ NATS_URL: nats.url, BEACON_APP_ENV: '{"ttl-reaper": secret-value' });
    expect(await single.exited).toBe(1);
    expect(single.output()).toContain('BEACON_APP_ENV is not valid JSON');
    expect(single.output()).not.toContain('secret-value');
  });
});
