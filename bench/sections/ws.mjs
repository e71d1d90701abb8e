/**
 * WebSocket fan-out (issue 4 item 5): 1,000 WebSocket clients on realtime-gateway,
 * registrations at a steady rate through registry-api's REST API, and the same 1,000
 * clients on a bare `ws` broadcast server (bench/bare-ws-server.mjs) driven at the same
 * rate, in the same run.
 *
 *   Beacon  bench/ws-loader.mjs POSTs /api/v1/services/register -> registry-api stores it and
 *           publishes beacon.events.service.registered (its `timestamp` is taken there) ->
 *           nats-server (JetStream BEACON_EVENTS) -> realtime-gateway -> 1,000 clients
 *   bare    bench/ws-loader.mjs publishes a registry-api-shaped event on core NATS (its
 *           `timestamp` taken just before) -> bare ws server -> 1,000 clients
 *
 * Clients live in separate processes (bench/ws-clients.mjs, two by default); per message,
 * delay = Date.now() at 'message' − the event's `timestamp` (one machine, one clock). Each
 * client counts every message index it gets, so missing and duplicate messages show.
 * Delivered messages/s = messages received by all clients per second of the measured
 * window. A higher rate (100/s by default, info rows) shows where each saturates.
 *
 * Both sets of clients stay connected throughout (1,000 on each server, one server at a
 * time gets events), so the windows alternate bare / Beacon / Beacon / bare / bare / Beacon
 * (ABBAAB): the machine is shared, and bursts of its other load then fall on both alike.
 *
 * Env: BENCH_WS_CLIENTS=1000  BENCH_WS_CLIENT_PROCS=2  BENCH_WS_RATE=20  BENCH_WS_ROUNDS=3  BENCH_WS_DURATION=8
 *      BENCH_WS_WARMUP=5  BENCH_WS_SETTLE=2  BENCH_WS_HIGH_RATE=100 (0: skip)  BENCH_WS_HIGH_WARMUP=2
 *      BENCH_WS_HIGH_DURATION=6  BENCH_WS_DRAIN=10  BENCH_WS_PROFILE_RATE=20 (the profiled windows' rate)
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { stopProcess, waitUntil } from '../lib/procs.mjs';
import {
  log,
  makeTmp,
  missingStack,
  REPO,
  RESULTS,
  removeTmp,
  startHelper,
  startNats,
  startRegistryApi,
  startWorker,
  stopAll,
} from '../lib/stack.mjs';
import { aggregate, buildRows, collectProfile, finish } from './ws/report.mjs';
import { settings, TARGETS } from './ws/settings.mjs';
import { connectClients, connectGateway, disconnectClients, pidsOf, runWindow } from './ws/window.mjs';

export { settings, TARGETS } from './ws/settings.mjs';

export const name = 'ws';
export const title = 'WebSocket fan-out: realtime-gateway vs a bare ws broadcast server, 1,000 clients';

const wsRequire = () => createRequire(join(REPO, 'apps', 'realtime-gateway', 'package.json'));

export function missing() {
  const out = missingStack(['registry-api', 'realtime-gateway']);
  try {
    wsRequire().resolve('ws');
  } catch {
    out.push('ws in apps/realtime-gateway/node_modules (run "pnpm install")');
  }
  return out;
}

export async function run({ stamp, profileMode = 'on-miss' }) {
  const tmp = makeTmp('beacon-bench-ws-');
  const report = { settings, targets: TARGETS, checks: {}, windows: [], phases: {} };
  const stack = { running: [], clientProcs: [], gateway: null, bare: null, gatewaySpawnedAt: 0, bareSpawnedAt: 0 };
  try {
    const ctx = await startServers(stack, tmp, stamp);
    log(
      `ws: ${settings.clients} clients (${settings.client_processes} processes) on each server; ${settings.rate}/s in ${settings.rounds * 2} alternating windows ` +
        `(${settings.duration_s} s measured each, after ${settings.warmup_s} s warm-up the first time, ${settings.settle_s} s after), ` +
        `${settings.high_rate ? `then ${settings.high_rate}/s once each (${settings.high_warmup_s} + ${settings.high_duration_s} s, info)` : ''}`,
    );
    // Both sets of 1,000 clients stay connected; one server at a time gets events.
    report.checks.bare_connect = await connectClients(stack.clientProcs, 'bare', `ws://127.0.0.1:${stack.bare.ready.port}/api/v1/ws`);
    await waitUntil(
      'the bare server to hold every client',
      async () => (await stack.bare.ask({ cmd: 'stats' }, 'stats')).clients === report.checks.bare_connect.open,
      { timeoutMs: 10_000 },
    );
    report.checks.beacon_connect = await connectGateway(stack.clientProcs, `ws://127.0.0.1:${stack.gateway.port}/api/v1/ws`, stack.gateway);

    report.windows = await runAlternatingWindows(ctx, stack);
    report.phases = phasesOf(report.windows);
    await disconnectClients(stack.clientProcs);
    await stopProcess(stack.bare.proc);
    stack.bare = null;

    const rows = buildRows(report);
    const missed = rows.some((row) => !row.info && !row.pass);
    if (profileMode === 'always' || (profileMode === 'on-miss' && missed))
      report.profiles = await profileServers(ctx, stack, tmp, stamp, missed);
    for (const w of report.windows) delete w.hist;
    return finish(report, rows);
  } finally {
    await Promise.all(stack.clientProcs.map((p) => disconnectClients([p]).catch(() => undefined)));
    await stopAll([stack.bare, stack.gateway, ...[...stack.running].reverse()]);
    removeTmp(tmp);
  }
}

/**
 * nats-server, registry-api, realtime-gateway, the loader, the client processes and the
 * bare server; one real registration whose response every bare trigger carries (same
 * fields and size as what the gateway sends; the loader posts the same body).
 */
async function startServers(stack, tmp, stamp) {
  const nats = await startNats(tmp);
  stack.running.push(nats);
  const api = await startRegistryApi(nats.url, join(tmp, 'ws.db'), tmp);
  stack.running.push(api);
  stack.gatewaySpawnedAt = Date.now();
  stack.gateway = await startWorker('realtime-gateway', nats.url, tmp, { name: 'realtime-gateway' });
  const loader = await startHelper('ws-loader', 'ws-loader.mjs');
  stack.running.push(loader);
  for (let i = 0; i < settings.client_processes; i++) {
    const proc = await startHelper(`ws-clients-${i + 1}`, 'ws-clients.mjs');
    stack.clientProcs.push(proc);
    stack.running.push(proc);
  }

  const body = {
    type: 'http',
    host: '10.20.30.40',
    port: 8080,
    tags: ['bench-ws', 'zone-1'],
    metadata: { rack: 'r3', version: '1.4.2' },
    ttl: 600,
  };
  const templateResponse = await fetch(`${api.url}/api/v1/services/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, name: `ws-${stamp}-template` }),
  });
  if (templateResponse.status !== 201)
    throw new Error(`registry-api refused the template registration: ${templateResponse.status} ${await templateResponse.text()}`);
  const service = await templateResponse.json();

  stack.bareSpawnedAt = Date.now();
  stack.bare = await startHelper('bare-ws-server', 'bare-ws-server.mjs', [nats.url, settings.trigger_subject]);
  return {
    stamp,
    nats,
    api,
    loader,
    clientProcs: stack.clientProcs,
    body,
    service,
    bareHttpUrl: `http://127.0.0.1:${stack.bare.ready.port}`,
    serverStartedAt: (target) => (target === 'beacon' ? stack.gatewaySpawnedAt : stack.bareSpawnedAt),
    pids: () => pidsOf({ nats, api, gateway: stack.gateway, bare: stack.bare, loader, clientProcs: stack.clientProcs }),
  };
}

/**
 * ABBAAB: bare, Beacon, Beacon, bare, bare, Beacon: short alternating windows, so the
 * bursts of other work on this shared machine fall on both servers alike; then each
 * server once at the high rate (info).
 */
async function runAlternatingWindows(ctx, stack) {
  const windows = [];
  const seen = new Set();
  for (let round = 0; round < settings.rounds; round++) {
    for (const target of round % 2 === 0 ? ['bare', 'beacon'] : ['beacon', 'bare']) {
      const warmup = seen.has(target) ? settings.settle_s : settings.warmup_s;
      seen.add(target);
      windows.push(
        await runWindow(`${target}-${round + 1}`, {
          ...ctx,
          target,
          gateway: stack.gateway,
          rate: settings.rate,
          warmup_s: warmup,
          duration_s: settings.duration_s,
        }),
      );
    }
  }
  if (settings.high_rate) {
    for (const target of ['bare', 'beacon']) {
      windows.push(
        await runWindow(`${target}-high`, {
          ...ctx,
          target,
          gateway: stack.gateway,
          rate: settings.high_rate,
          warmup_s: settings.high_warmup_s,
          duration_s: settings.high_duration_s,
          high: true,
        }),
      );
    }
  }
  return windows;
}

/** The windows merged per server and rate. */
function phasesOf(windows) {
  const of = (target, high) => aggregate(windows.filter((w) => w.target === target && Boolean(w.high) === high));
  return {
    bare: of('bare', false),
    beacon: of('beacon', false),
    ...(settings.high_rate ? { bare_high: of('bare', true), beacon_high: of('beacon', true) } : {}),
  };
}

/** realtime-gateway, then the bare server, each restarted under `node --cpu-prof` for one window at the profile rate. */
async function profileServers(ctx, stack, tmp, stamp, missed) {
  const rate = settings.profile_rate;
  const high = rate !== settings.rate;
  const load = {
    rate,
    high,
    warmup_s: high ? settings.high_warmup_s : settings.warmup_s,
    duration_s: high ? settings.high_duration_s : settings.duration_s * settings.rounds,
  };
  log(
    `ws: ${missed ? 'a target was missed: ' : ''}profiling realtime-gateway, then the bare ws server (node --cpu-prof), at ${rate}/s for ${load.warmup_s} + ${load.duration_s} s each ...`,
  );
  const dir = join(RESULTS, 'profiles', stamp);
  mkdirSync(dir, { recursive: true });
  const profiles = {};

  await stopProcess(stack.gateway.proc);
  let raw = join(tmp, 'prof-gateway');
  mkdirSync(raw, { recursive: true });
  let spawnedAt = Date.now();
  stack.gatewaySpawnedAt = spawnedAt;
  stack.gateway = await startWorker('realtime-gateway', ctx.nats.url, tmp, { name: 'realtime-gateway-prof', cpuProfDir: raw });
  await connectGateway(stack.clientProcs, `ws://127.0.0.1:${stack.gateway.port}/api/v1/ws`, stack.gateway);
  let window = await runWindow('beacon-prof', { ...ctx, ...load, target: 'beacon', gateway: stack.gateway });
  await disconnectClients(stack.clientProcs);
  await stopProcess(stack.gateway.proc);
  profiles['realtime-gateway'] = collectProfile(raw, dir, 'realtime-gateway', window, spawnedAt);

  raw = join(tmp, 'prof-bare');
  mkdirSync(raw, { recursive: true });
  spawnedAt = Date.now();
  stack.bareSpawnedAt = spawnedAt;
  stack.bare = await startHelper('bare-ws-server-prof', 'bare-ws-server.mjs', [ctx.nats.url, settings.trigger_subject], {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${raw}`],
  });
  await connectClients(stack.clientProcs, 'bare', `ws://127.0.0.1:${stack.bare.ready.port}/api/v1/ws`);
  window = await runWindow('bare-prof', { ...ctx, ...load, target: 'bare', bareHttpUrl: `http://127.0.0.1:${stack.bare.ready.port}` });
  await disconnectClients(stack.clientProcs);
  await stopProcess(stack.bare.proc);
  stack.bare = null;
  profiles['bare-ws'] = collectProfile(raw, dir, 'bare-ws', window, spawnedAt);
  return profiles;
}
