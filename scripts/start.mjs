#!/usr/bin/env node
// `pnpm start` (and `./beacon.sh start`): the whole stack on one machine.
// 1. a nats-server with JetStream (unless NATS_URL is set, or a NATS server already listens
//    on the port), data in BEACON_DATA_DIR/nats, with Beacon's NATS identities: on first start
//    the launcher writes their passwords (BEACON_DATA_DIR/nats/secrets, mode 0600) and the
//    server's config with each one's permissions; later starts reuse them;
// 2. the six apps, each connecting as its own identity, registry-api on the embedded store
//    (BEACON_DATA_DIR/beacon.db): by default in one Node process (single/, BEACON_MODE=single),
//    each still its own Nest app with its own port, metrics and NATS identity; with
//    BEACON_MODE=split, one process each (as docker compose and Kubernetes run them);
// 3. when nginx is installed, the gateway from deploy/nginx/beacon.conf on BEACON_PORT, so
//    REST, WebSocket, SSE and the dashboard share one base URL (registry-api then listens on
//    REGISTRY_PORT behind it). Without nginx, registry-api itself takes BEACON_PORT.
// Only what serves the LAN listens on every interface: the nginx gateway's port (or, without
// nginx, registry-api's and realtime-gateway's) and node-role-elector's (seed 001's nodes
// read each other's /discovery). NATS and the other apps' ports stay on loopback unless
// BEACON_LISTEN_HOST opens them.
// Prefixed logs from every process, and in single mode from every app (coloured only on a
// terminal). A process that dies is
// restarted with backoff (scripts/lib/supervisor.mjs); one that keeps dying at once stops
// the stack. One launcher per data directory (BEACON_DATA_DIR/beacon.pid, scripts/lib/lock.mjs).
// Ctrl-C stops the gateway, then the apps, then NATS.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { colorEnabled, painter } from './lib/colors.mjs';
import { acquireLock } from './lib/lock.mjs';
import { identityEnv, prepareLocalNats } from './lib/nats-auth.mjs';
import { SupervisedProcess } from './lib/supervisor.mjs';
import { findBinary, portFree, REPO_ROOT, waitUntil } from './lib/tools.mjs';
import { writeLocalNginxConfig } from './nginx-config.mjs';

const root = REPO_ROOT;
const colors = [36, 35, 33, 32, 34, 31, 96, 93];
const paint = painter(colorEnabled());
/** Every process the launcher runs (SupervisedProcess), in start order. */
const children = [];
let stopping = false;
let releaseLock = () => {};

const env = process.env;
const dataDir = resolve(root, env.BEACON_DATA_DIR ?? 'data');
const publicPort = Number(env.BEACON_PORT ?? 8097);
const nginxMode = (env.BEACON_NGINX ?? 'auto').toLowerCase();
/** `single` (the default): the six apps in one process; `split`: one process per app. */
const mode = (env.BEACON_MODE ?? 'single').trim().toLowerCase() || 'single';
/** The single process's name in the launcher's log. */
const SINGLE = 'apps';
const nginxBinary = nginxMode === '0' || nginxMode === 'off' || nginxMode === 'false' ? null : findBinary('nginx');
const registryPort = nginxBinary ? Number(env.REGISTRY_PORT ?? 8096) : publicPort;
const gatewayPort = Number(env.GATEWAY_HTTP_PORT ?? 8098);
/** Where internal ports (NATS, the apps' /metrics and /health) listen: loopback unless opened. */
const internalHost = env.BEACON_LISTEN_HOST || '127.0.0.1';
/** Ports the LAN uses: the gateway's (or without nginx, registry-api's and realtime-gateway's) and the elector's. */
const LAN_HOST = '0.0.0.0';
/** The address to reach a port listening on `host` from this machine. */
const localAddress = (host) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

/**
 * Without nginx the dashboard (gateway port) calls registry-api on another port, another
 * origin, and CORS is off by default: allow the dashboard's own origins, by each name and
 * address a browser may use for this machine, and no other page (CORS_ORIGINS overrides).
 */
function dashboardOrigins() {
  const addresses = Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address),
  );
  const hosts = ['localhost', hostname(), `${hostname()}.local`, ...addresses];
  return [...new Set(hosts)].map((host) => `http://${host}:${gatewayPort}`).join(',');
}

/**
 * Apps to run; registry-api first, the others once it answers. `portVariable` is what the
 * user sets (named in messages), `listenVariable` what the app reads (default HTTP_PORT),
 * `hostVariable` its listen address (default HTTP_HOST) and `host` the address itself.
 */
const apps = [
  {
    name: 'registry-api',
    portVariable: nginxBinary ? 'REGISTRY_PORT' : 'BEACON_PORT',
    listenVariable: 'BEACON_PORT',
    hostVariable: 'BEACON_HOST',
    port: registryPort,
    host: nginxBinary ? internalHost : LAN_HOST,
    env: {
      BEACON_SQLITE_PATH: env.BEACON_SQLITE_PATH ?? join(dataDir, 'beacon.db'),
      ...(nginxBinary ? {} : { CORS_ORIGINS: env.CORS_ORIGINS ?? dashboardOrigins() }),
    },
  },
  { name: 'ttl-reaper', portVariable: 'REAPER_HTTP_PORT', port: Number(env.REAPER_HTTP_PORT ?? 9101) },
  { name: 'health-prober', portVariable: 'PROBER_HTTP_PORT', port: Number(env.PROBER_HTTP_PORT ?? 9102) },
  {
    name: 'mdns-announcer',
    portVariable: 'ANNOUNCER_HTTP_PORT',
    port: Number(env.ANNOUNCER_HTTP_PORT ?? 9103),
    // The LAN is pointed at the public port: the gateway's, or registry-api's without one.
    env: { BEACON_ANNOUNCE_PORT: env.BEACON_ANNOUNCE_PORT ?? String(publicPort) },
  },
  {
    name: 'realtime-gateway',
    portVariable: 'GATEWAY_HTTP_PORT',
    port: gatewayPort,
    // Without nginx, browsers reach the dashboard and the live events on this port.
    host: nginxBinary ? internalHost : LAN_HOST,
    // Behind nginx the dashboard calls the API on its own origin; without it, registry-api's port.
    env: nginxBinary ? {} : { BEACON_PUBLIC_API_URL: env.BEACON_PUBLIC_API_URL ?? `http://localhost:${publicPort}` },
  },
  {
    name: 'node-role-elector',
    portVariable: 'ELECTOR_PORT',
    listenVariable: 'ELECTOR_PORT',
    hostVariable: 'ELECTOR_HOST',
    port: Number(env.ELECTOR_PORT ?? 9999),
    // Seed 001's nodes read each other's /discovery and /health on this port, across the LAN.
    host: LAN_HOST,
    env: { SERVER_ADVERTISE_PORT: env.SERVER_ADVERTISE_PORT ?? String(publicPort) },
  },
];

/**
 * A UDP port on loopback where nginx sends its access log as syslog datagrams
 * (`<pri>timestamp nginx: line`); each line is printed as nginx's. The socket lives as long as the launcher.
 */
function nginxAccessLog() {
  return new Promise((resolvePort, reject) => {
    const socket = createSocket('udp4');
    socket.on('message', (message) => {
      const text = message.toString('utf8');
      const at = text.indexOf('nginx: ');
      log('nginx', at === -1 ? text : text.slice(at + 'nginx: '.length));
    });
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.unref();
      resolvePort(socket.address().port);
    });
  });
}

function log(name, text, color = 90, textColor = null) {
  const prefix = paint(color, `${name.padEnd(17)}|`);
  for (const line of text.split('\n')) process.stdout.write(`${prefix} ${textColor ? paint(textColor, line) : line}\n`);
}

function fail(message) {
  log('beacon', message, 31, 31);
  shutdown(1);
}

/** True when whatever listens on the port greets like a NATS server (`INFO {...}`). */
/**
 * What listens on `port` says of itself when it is a NATS server (its `INFO {...}`
 * greeting, parsed), or null when nothing there speaks NATS.
 */
function natsGreeting(port, host = '127.0.0.1') {
  return new Promise((done) => {
    const socket = tcpConnect(port, host);
    const timer = setTimeout(() => (socket.destroy(), done(null)), 1000);
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString();
      if (!text.startsWith('INFO ')) return done(null);
      try {
        done(JSON.parse(text.slice(5).split('\r\n')[0]));
      } catch {
        done({});
      }
    });
    socket.once('error', () => (clearTimeout(timer), done(null)));
  });
}

const speaksNats = async (port, host) => (await natsGreeting(port, host)) !== null;

/**
 * Starts `command` as `name`, restarted whenever it dies until the launcher stops. Each line
 * it writes is logged under `name`, or under the app `writer(line)` names (single mode).
 */
function run(name, command, args, env, writer = () => null) {
  const color = colors[children.length % colors.length];
  const supervised = new SupervisedProcess({
    name,
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which then stops
    // the apps before NATS so they can drain.
    spawnChild: () =>
      spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true }),
    onLine: (line) => {
      const app = writer(line);
      log(app ?? name, line, app ? appColor(app) : color);
    },
    say: (line) => log('beacon', line),
    onGiveUp: fail,
    stopping: () => stopping,
  });
  children.push(supervised);
  supervised.start();
  return supervised;
}

const whileRunning = () => (stopping ? 'the launcher is stopping' : null);

/**
 * Waits for `url` to answer; each restart of `supervised` on the way gives it another
 * `timeoutMs` (its supervisor gives up on one that keeps dying).
 */
async function waitForHttp(url, name, supervised, timeoutMs = 30_000) {
  for (;;) {
    const starts = supervised?.starts;
    try {
      await waitUntil(`${name} on ${url}`, async () => (await fetch(url)).ok, { timeoutMs, intervalMs: 200, stop: whileRunning });
      return;
    } catch {
      if (stopping) return;
      if (supervised?.starts === starts) return fail(`${name} did not answer ${url} within ${timeoutMs / 1000} s`);
    }
  }
}

/**
 * The NATS the apps use: `url`, and `auth(app)`, the variables each app connects with (none
 * for a NATS the launcher did not start: its users are the user's business).
 */
async function startNats() {
  const noAuth = () => ({});
  if (process.env.NATS_URL) {
    log('beacon', `using NATS at ${process.env.NATS_URL} (NATS_URL); its credentials are yours to give (NATS_USER, NATS_PASSWORD_FILE)`);
    return { url: process.env.NATS_URL, auth: noAuth };
  }
  const port = Number(env.BEACON_NATS_PORT ?? 4222);
  const url = `nats://${localAddress(internalHost)}:${port}`;
  const natsDir = join(dataDir, 'nats');
  if (!(await portFree(port))) {
    const greeting = await natsGreeting(port);
    if (!greeting) {
      fail(`port ${port} is taken by something that is not NATS: stop it, or set BEACON_NATS_PORT=<free port>, or NATS_URL=<your NATS>`);
      return null;
    }
    // NATS is Beacon's control plane: a server that lets anyone in (started by whoever took
    // the port first) is not one to put it on unasked. One that asks for a user may be this
    // data directory's own, left running: the apps connect with its passwords, and stop
    // with a message naming NATS_USER if they are refused.
    const ours = greeting.auth_required === true ? identityEnv(natsDir, 'registry-api') : null;
    if (!ours) {
      fail(
        `a NATS server ${greeting.auth_required ? "that is not this data directory's" : 'without authentication'} already listens on ${port}; ` +
          'Beacon will not put its control plane on it. Stop it, or set BEACON_NATS_PORT=<free port>, or NATS_URL=<it> to use it deliberately',
      );
      return null;
    }
    log('beacon', `Beacon's NATS already listens on ${port} (left running); connecting with the passwords in ${join(natsDir, 'secrets')}`);
    return { url, auth: (identity) => identityEnv(natsDir, identity) };
  }
  // NATS_SERVER_BIN: a nats-server outside PATH (or, in the launcher's test, one that is not there).
  const binary = env.NATS_SERVER_BIN ? (existsSync(env.NATS_SERVER_BIN) ? env.NATS_SERVER_BIN : null) : findBinary('nats-server');
  if (!binary) {
    fail('nats-server is not installed: run ./beacon.sh start (installs it), or sudo apt-get install nats-server, or set NATS_URL');
    return null;
  }
  mkdirSync(natsDir, { recursive: true });
  let prepared;
  try {
    prepared = prepareLocalNats(natsDir, { host: internalHost, port });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
    return null;
  }
  const { configPath, envFor } = prepared;
  run('nats', binary, ['-c', configPath]);
  try {
    await waitUntil(`nats-server on ${port}`, () => speaksNats(port, localAddress(internalHost)), {
      timeoutMs: 10_000,
      stop: whileRunning,
    });
  } catch {
    fail(`nats-server did not come up on port ${port}`);
    return null;
  }
  log(
    'beacon',
    `NATS requires a user: each app has its own; outside subscribers use beacon-reader (password in ${join(natsDir, 'secrets')})`,
  );
  return { url, auth: envFor };
}

function checkPorts() {
  const wanted = [
    ...apps.map((app) => ({ port: app.port, who: app.name, variable: app.portVariable })),
    ...(nginxBinary ? [{ port: publicPort, who: 'the nginx gateway', variable: 'BEACON_PORT' }] : []),
  ];
  const seen = new Map();
  for (const entry of wanted) {
    if (!Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535) {
      return `${entry.variable}=${entry.port} is not a port (1-65535)`;
    }
    const other = seen.get(entry.port);
    if (other) return `${entry.who} and ${other.who} would both listen on port ${entry.port}: set ${entry.variable}=<another port>`;
    seen.set(entry.port, entry);
  }
  return wanted;
}

/** An app's own variables: its NATS identity (a password file, never the password), port, address, and the rest. */
function appVariables(app, nats) {
  return {
    NATS_URL: nats.url,
    ...nats.auth(app.name),
    LOG_FORMAT: env.LOG_FORMAT ?? 'pretty',
    [app.listenVariable ?? 'HTTP_PORT']: String(app.port),
    [app.hostVariable ?? 'HTTP_HOST']: app.host ?? internalHost,
    ...app.env,
  };
}

const healthUrl = (app) => `http://${localAddress(app.host ?? internalHost)}:${app.port}/health`;

/** The colour of an app's lines, the same in both modes (nats has the first). */
const appColor = (name) => colors[(apps.findIndex((app) => app.name === name) + 1) % colors.length];

/** BEACON_MODE=split: one process per app, registry-api first, the others once it answers. */
async function startSplit(nats) {
  const startApp = (app) => {
    const supervised = run(app.name, process.execPath, [join('apps', app.name, 'dist', 'main.js')], appVariables(app, nats));
    return waitForHttp(healthUrl(app), app.name, supervised);
  };
  await startApp(apps[0]);
  await Promise.all(apps.slice(1).map((app) => (stopping ? null : startApp(app))));
}

/**
 * Which app wrote a line of the single process: a JSON line's `"app"`, a pretty line's
 * `(name):`, the single process's own `name: ...`; an indented line continues the line
 * before it (pino-pretty's fields). Null: the process's own (a Node warning, say).
 */
function singleLineWriter() {
  const names = new Set(apps.map((app) => app.name));
  let last = null;
  return (line) => {
    const named =
      /"app":"([a-z-]+)"/.exec(line)?.[1] ?? /^\[[^\]]*\] +[A-Z]+ +\(([a-z-]+)\)/.exec(line)?.[1] ?? /^([a-z-]+): /.exec(line)?.[1];
    if (named && names.has(named)) last = named;
    else if (!/^\s/.test(line)) last = null;
    return last;
  };
}

/**
 * BEACON_MODE=single: the six apps in one Node process (single/dist/main.js), each with the
 * variables it has in split mode, passed in BEACON_APP_ENV. It is restarted whole, with
 * the same backoff, when any app in it fails; each app is waited for on its own port.
 */
async function startSingle(nats) {
  const perApp = Object.fromEntries(apps.map((app) => [app.name, appVariables(app, nats)]));
  const supervised = run(
    SINGLE,
    process.execPath,
    [join('single', 'dist', 'main.js')],
    { BEACON_APPS: apps.map((app) => app.name).join(','), BEACON_APP_ENV: JSON.stringify(perApp) },
    singleLineWriter(),
  );
  await waitForHttp(healthUrl(apps[0]), apps[0].name, supervised);
  await Promise.all(apps.slice(1).map((app) => (stopping ? null : waitForHttp(healthUrl(app), app.name, supervised))));
}

/**
 * Takes the data directory for this launcher, before any port is looked at: a second start
 * on it is told where the first one runs instead of which of its ports is taken.
 */
function takeDataDir() {
  const url = `http://localhost:${publicPort}`;
  const lock = acquireLock(dataDir, { url, ports: { public: publicPort, registry: registryPort, gateway: gatewayPort } });
  if (!lock.holder) {
    releaseLock = lock.release;
    return;
  }
  const { pid, url: theirUrl, startedAt } = lock.holder;
  log(
    'beacon',
    `Beacon is already running on ${theirUrl ?? 'an unknown URL'} (launcher pid ${pid}, started ${startedAt ?? 'at an unknown time'}, data directory ${dataDir}). ` +
      `Use that one, or stop it (Ctrl-C in its terminal, or kill ${pid}) first; a second Beacon needs its own BEACON_DATA_DIR and ports`,
    31,
    31,
  );
  // Nothing was started, so there is nothing to stop.
  process.exit(1);
}

async function main() {
  takeDataDir();
  if (nginxMode === '1' || nginxMode === 'on' || nginxMode === 'true') {
    if (!nginxBinary) return fail('BEACON_NGINX=1 but nginx is not installed: sudo apt-get install nginx (or unset BEACON_NGINX)');
  } else if (!nginxBinary && nginxMode === 'auto') {
    log(
      'beacon',
      'nginx is not installed: registry-api serves http://localhost:' +
        publicPort +
        ' itself and realtime-gateway its own port (sudo apt-get install nginx for one base URL)',
    );
  }
  if (mode !== 'single' && mode !== 'split') {
    return fail(
      `BEACON_MODE=${env.BEACON_MODE} is not a mode: single (the default: the apps in one process) or split (one process per app)`,
    );
  }
  const entries = [
    ...apps.map((app) => join('apps', app.name, 'dist', 'main.js')),
    ...(mode === 'single' ? [join('single', 'dist', 'main.js')] : []),
  ];
  for (const entry of entries) {
    if (!existsSync(join(root, entry))) return fail(`${entry} is not built: run "pnpm build" (./beacon.sh start does it)`);
  }
  const ports = checkPorts();
  if (typeof ports === 'string') return fail(ports);
  for (const { port, who, variable } of ports) {
    if (!(await portFree(port))) {
      return fail(`port ${port} (${who}) is in use: stop what listens there, or set ${variable}=<free port>`);
    }
  }
  const nats = await startNats();
  if (!nats) return;
  log(
    'beacon',
    mode === 'single'
      ? 'starting the six apps in one process (BEACON_MODE=split runs one process per app)'
      : 'starting the six apps, one process each (BEACON_MODE=split)',
  );
  await (mode === 'single' ? startSingle(nats) : startSplit(nats));
  if (stopping) return;
  const gateway = `http://localhost:${gatewayPort}`;
  if (nginxBinary) {
    const dir = join(dataDir, 'nginx');
    const path = writeLocalNginxConfig({
      dir,
      port: publicPort,
      registryPort,
      gatewayPort,
      accessLogPort: /^(1|true|yes|on)$/i.test(env.LOG_HTTP ?? '') ? await nginxAccessLog() : undefined,
    });
    const nginx = run('nginx', nginxBinary, ['-p', dir, '-c', path, '-e', 'stderr']);
    await waitForHttp(`http://127.0.0.1:${publicPort}/health`, 'nginx', nginx);
    if (stopping) return;
    const base = `http://localhost:${publicPort}`;
    log(
      'beacon',
      `Beacon is up on ${base}: API ${base}/api/v1/services (docs ${base}/api/docs), dashboard ${base}/, events ws://localhost:${publicPort}/api/v1/ws and ${base}/api/v1/events  ·  Ctrl-C stops it`,
      32,
      1,
    );
  } else {
    const base = `http://localhost:${registryPort}`;
    log(
      'beacon',
      `Beacon is up: API ${base}/api/v1/services (docs ${base}/api/docs), dashboard ${gateway}/, events ws://localhost:${gatewayPort}/api/v1/ws  ·  Ctrl-C stops it`,
      32,
      1,
    );
  }
}

async function stop(supervised) {
  if (await supervised.stop()) log('beacon', `${supervised.name} stopped`);
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  // The gateway first (no new requests), then the apps (each drains its NATS connection on
  // the way out; in one process, realtime-gateway first and registry-api last), NATS last.
  const byName = (names) => children.filter((c) => names.includes(c.name));
  await Promise.all(byName(['nginx']).map(stop));
  await Promise.all(byName([SINGLE, ...apps.map((app) => app.name)]).map(stop));
  await Promise.all(byName(['nats']).map(stop));
  process.exit(code);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));
// Last resort if the launcher dies abruptly: take the children with it.
process.on('exit', () => {
  for (const supervised of children) supervised.killNow();
  releaseLock();
});
main().catch((error) => fail(error?.stack ?? String(error)));
