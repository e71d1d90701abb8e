#!/usr/bin/env node
// `pnpm start`: runs Beacon locally. Starts a nats-server with JetStream (unless NATS_URL
// is set or a NATS server already listens on the port), then the apps on the embedded
// store, with prefixed logs. Ctrl-C stops everything, apps first and NATS last.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const colors = [36, 35, 33, 32, 34, 31, 96];
const children = [];
let stopping = false;

/** Apps to run, in start order. */
const apps = [
  { name: 'registry-api', portVariable: 'BEACON_PORT', port: Number(process.env.BEACON_PORT ?? 8097) },
  { name: 'ttl-reaper', portVariable: 'HTTP_PORT', port: Number(process.env.REAPER_HTTP_PORT ?? 9101) },
  { name: 'health-prober', portVariable: 'HTTP_PORT', port: Number(process.env.PROBER_HTTP_PORT ?? 9102) },
  {
    name: 'mdns-announcer',
    portVariable: 'HTTP_PORT',
    port: Number(process.env.ANNOUNCER_HTTP_PORT ?? 9103),
    env: { BEACON_ANNOUNCE_PORT: process.env.BEACON_PORT ?? '8097' },
  },
  {
    name: 'realtime-gateway',
    portVariable: 'HTTP_PORT',
    port: Number(process.env.GATEWAY_HTTP_PORT ?? 8098),
    // The dashboard's browser reaches registry-api directly when nothing fronts both.
    env: { BEACON_PUBLIC_API_URL: process.env.BEACON_PUBLIC_API_URL ?? `http://localhost:${process.env.BEACON_PORT ?? 8097}` },
  },
];

function log(name, line, color = 90) {
  process.stdout.write(`\x1b[${color}m${name.padEnd(14)}|\x1b[0m ${line}\n`);
}

function fail(message) {
  log('beacon', `\x1b[31m${message}\x1b[0m`, 31);
  shutdown(1);
}

function portFree(port, host = '0.0.0.0') {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

/** True when whatever listens on the port greets like a NATS server (`INFO {...}`). */
function speaksNats(port) {
  return new Promise((done) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const timer = setTimeout(() => (socket.destroy(), done(false)), 1000);
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      done(data.toString().startsWith('INFO '));
    });
    socket.once('error', () => (clearTimeout(timer), done(false)));
  });
}

function findBinary(name) {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function run(name, command, args, env) {
  const color = colors[children.length % colors.length];
  // Own process group: a terminal's Ctrl-C reaches only this launcher, which then stops
  // the apps before NATS so they can drain.
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) log(name, line, color);
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
  });
  children.push({ name, child });
  return child;
}

async function waitForHttp(url, name, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!stopping) fail(`${name} did not answer ${url} within ${timeoutMs / 1000} s`);
}

async function startNats() {
  if (process.env.NATS_URL) {
    log('beacon', `using NATS at ${process.env.NATS_URL} (NATS_URL)`);
    return process.env.NATS_URL;
  }
  const port = Number(process.env.BEACON_NATS_PORT ?? 4222);
  const url = `nats://127.0.0.1:${port}`;
  if (!(await portFree(port))) {
    if (await speaksNats(port)) {
      log('beacon', `a NATS server already listens on ${port}; using it (it must run with JetStream: nats-server -js)`);
      return url;
    }
    fail(`port ${port} is taken by something that is not NATS: stop it, or set BEACON_NATS_PORT=<free port>, or NATS_URL=<your NATS>`);
    return null;
  }
  const binary = findBinary('nats-server');
  if (!binary) {
    fail('nats-server is not installed: run ./beacon.sh start (installs it), or sudo apt-get install nats-server, or set NATS_URL');
    return null;
  }
  const storeDir = join(root, 'data', 'nats');
  mkdirSync(storeDir, { recursive: true });
  run('nats', binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir]);
  const deadline = Date.now() + 10_000;
  while (!(await speaksNats(port))) {
    if (Date.now() > deadline || stopping) return fail(`nats-server did not come up on port ${port}`), null;
    await new Promise((r) => setTimeout(r, 100));
  }
  return url;
}

async function main() {
  for (const app of apps) {
    if (!existsSync(join(root, 'apps', app.name, 'dist', 'main.js'))) {
      return fail(`apps/${app.name} is not built: run "pnpm build" (./beacon.sh start does it)`);
    }
    if (!(await portFree(app.port))) {
      return fail(`port ${app.port} (${app.name}) is in use: stop what listens there, or set ${app.portVariable}=<free port>`);
    }
  }
  const natsUrl = await startNats();
  if (!natsUrl) return;
  for (const app of apps) {
    run(app.name, process.execPath, [join('apps', app.name, 'dist', 'main.js')], {
      NATS_URL: natsUrl,
      LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
      ...app.env,
      [app.portVariable]: String(app.port),
    });
    await waitForHttp(`http://127.0.0.1:${app.port}/health`, app.name);
  }
  if (stopping) return;
  const base = `http://localhost:${apps[0].port}`;
  const gatewayApp = apps.find((app) => app.name === 'realtime-gateway');
  const gateway = `http://localhost:${gatewayApp.port}`;
  log('beacon', `\x1b[1mBeacon is up: API ${base}/api/v1/services (docs ${base}/api/docs), dashboard ${gateway}/, events ws://localhost:${gatewayApp.port}/api/v1/ws  ·  Ctrl-C stops it\x1b[0m`, 32);
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  // Apps first (they drain NATS on the way out), NATS last.
  for (const { name, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    log('beacon', `${name} stopped`);
  }
  process.exit(code);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));
// Last resort if the launcher dies abruptly: take the children with it.
process.on('exit', () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
main().catch((error) => fail(error?.stack ?? String(error)));
