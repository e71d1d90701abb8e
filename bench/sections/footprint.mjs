/**
 * Footprint: the whole single-box stack as `./beacon.sh start` runs it (scripts/start.mjs,
 * embedded SQLite store, its own nats-server; without nginx, which is the same in both
 * modes), in its two modes in the same run:
 *
 *   single  BEACON_MODE=single (the default): the six apps in one Node process
 *   split   BEACON_MODE=split: one Node process per app
 *
 * Measured per mode:
 *   cold start  from spawning the launcher to every app answering 200 on its own /ready
 *               (polled every 25 ms), on a fresh data directory; the median of
 *               BENCH_FOOTPRINT_STARTS starts, the modes alternating
 *   idle RSS    the sum of VmRSS over every process the launcher started (the apps and
 *               nats-server; the launcher itself is shown apart), BENCH_FOOTPRINT_SETTLE s
 *               after ready, median of 3 readings 1 s apart
 *   loaded RSS  the same, with 10,000 services registered through registry-api and 1,000
 *               WebSocket clients (bench/ws-clients.mjs, in their own processes) connected
 *               to realtime-gateway
 *   PSS, heap   information beside RSS: PSS (smaps_rollup) splits pages shared between
 *               processes (the node binary's code, mapped by all six in split mode) among
 *               them, so it is what the processes really cost together; V8 heap used is the
 *               apps' own `beacon_nodejs_heap_size_used_bytes` (one process's in single mode)
 *
 * Env: BENCH_FOOTPRINT_STARTS=3  BENCH_FOOTPRINT_SETTLE=5  BENCH_FOOTPRINT_SERVICES=10000
 *      BENCH_FOOTPRINT_CLIENTS=1000  BENCH_FOOTPRINT_CLIENT_PROCS=2
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { serviceInput } from '../lib/dataset.mjs';
import { freePort, httpOk, sleep, startProcess, stopProcess, waitUntil } from '../lib/procs.mjs';
import {
  envNumber,
  log,
  makeTmp,
  metricSum,
  missingStack,
  REPO,
  recordRows,
  registerAll,
  removeTmp,
  scrapeMetrics,
  startHelper,
  stopAll,
  textTable,
} from '../lib/stack.mjs';

export const name = 'footprint';
export const title = 'Footprint: six apps in one process vs six processes (nats-server included), idle and loaded RSS, cold start';

export const settings = {
  starts: envNumber('BENCH_FOOTPRINT_STARTS', 3),
  settle_s: envNumber('BENCH_FOOTPRINT_SETTLE', 5),
  services: envNumber('BENCH_FOOTPRINT_SERVICES', 10_000),
  clients: envNumber('BENCH_FOOTPRINT_CLIENTS', 1000),
  client_processes: envNumber('BENCH_FOOTPRINT_CLIENT_PROCS', 2),
};

export const TARGETS = { idle_mb: 250, cold_start_ms: 3000 };

const MODES = ['single', 'split'];
const APPS = {
  'registry-api': 'BEACON_PORT',
  'ttl-reaper': 'REAPER_HTTP_PORT',
  'health-prober': 'PROBER_HTTP_PORT',
  'mdns-announcer': 'ANNOUNCER_HTTP_PORT',
  'realtime-gateway': 'GATEWAY_HTTP_PORT',
  'node-role-elector': 'ELECTOR_PORT',
};

export function missing() {
  const out = missingStack(Object.keys(APPS));
  if (!existsSync(join(REPO, 'single', 'dist', 'main.js'))) out.push('single/dist/main.js (run "pnpm build")');
  try {
    createRequire(join(REPO, 'apps', 'realtime-gateway', 'package.json')).resolve('ws');
  } catch {
    out.push('ws in apps/realtime-gateway/node_modules (run "pnpm install")');
  }
  return out;
}

const mb = (kb) => Math.round(kb / 102.4) / 10;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/** pid -> parent pid, for every process now. */
function parents() {
  const out = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      out.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** VmRSS in kB, 0 for a process that is gone. */
function rssKb(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Proportional set size in kB (shared pages divided among their processes), 0 when unknown. */
function pssKb(pid) {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** What a process is, from its command line: nats-server, an app, the single process. */
function labelOf(pid) {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (args.some((arg) => arg.endsWith('nats-server'))) return 'nats-server';
    const app = args.map((arg) => /apps\/([a-z-]+)\/dist\/main\.js$/.exec(arg)?.[1]).find(Boolean);
    if (app) return app;
    if (args.some((arg) => arg.endsWith(join('single', 'dist', 'main.js')))) return 'single (6 apps)';
    return args[0] ?? String(pid);
  } catch {
    return String(pid);
  }
}

/** The launcher's descendants' RSS, by label, and the launcher's own. */
function stackRss(launcherPid) {
  const tree = parents();
  const below = [];
  const walk = (parent) => {
    for (const [pid, ppid] of tree) {
      if (ppid !== parent) continue;
      below.push(pid);
      walk(pid);
    }
  };
  walk(launcherPid);
  const processes = Object.fromEntries(below.map((pid) => [labelOf(pid), rssKb(pid)]));
  return {
    total_kb: Object.values(processes).reduce((sum, kb) => sum + kb, 0),
    pss_kb: below.reduce((sum, pid) => sum + pssKb(pid), 0),
    processes,
    launcher_kb: rssKb(launcherPid),
  };
}

/** Three readings 1 s apart; the one with the median total. */
async function settledRss(launcherPid) {
  const readings = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(1000);
    readings.push(stackRss(launcherPid));
  }
  const middle = median(readings.map((reading) => reading.total_kb));
  return readings.find((reading) => reading.total_kb === middle);
}

/** V8 heap used by the apps, in kB: one process's in single mode (every app reports it), the six processes' sum in split mode. */
async function heapUsedKb(urls, mode) {
  const used = async (url) => metricSum(await scrapeMetrics(url), 'beacon_nodejs_heap_size_used_bytes') / 1024;
  if (mode === 'single') return Math.round(await used(urls['registry-api']));
  return Math.round((await Promise.all(Object.values(urls).map(used))).reduce((sum, kb) => sum + kb, 0));
}

/** Starts the launcher in `mode` on free ports and a fresh data directory; resolves once every app is ready. */
async function launch(mode, tmp, trial) {
  const ports = {};
  for (const variable of [...Object.values(APPS), 'BEACON_NATS_PORT']) ports[variable] = String(await freePort());
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    BEACON_MODE: mode,
    BEACON_NGINX: '0',
    BEACON_DATA_DIR: join(tmp, `${mode}-${trial}`),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
    // One client at thousands of registrations a second, 1,000 sockets from one address.
    BEACON_REGISTRATIONS_PER_SECOND: '0',
    BEACON_MAX_SERVICES: '0',
    GATEWAY_MAX_CLIENTS_PER_ADDRESS: '0',
    ...ports,
  };
  const started = performance.now();
  const proc = startProcess(`launcher (${mode})`, process.execPath, [join(REPO, 'scripts', 'start.mjs')], { cwd: REPO, env });
  const urls = Object.fromEntries(Object.entries(APPS).map(([app, variable]) => [app, `http://127.0.0.1:${ports[variable]}`]));
  const ready = new Set();
  await waitUntil(
    `every app ready (${mode})`,
    async () => {
      await Promise.all(
        Object.entries(urls)
          .filter(([app]) => !ready.has(app))
          .map(async ([app, url]) => (await httpOk(`${url}/ready`).catch(() => false)) && ready.add(app)),
      );
      return ready.size === Object.keys(urls).length;
    },
    { proc, timeoutMs: 60_000 },
  );
  return { proc, urls, cold_start_ms: Math.round(performance.now() - started) };
}

/** 10,000 services and 1,000 WebSocket clients on a running stack; RSS once they settle. */
async function loaded(stack, clientProcs, mode) {
  const bodies = Array.from({ length: settings.services }, (_, n) => serviceInput(n, `footprint-${mode}`));
  const registered = await registerAll(stack.urls['registry-api'], bodies, 32);
  if (registered.failures > 0) throw new Error(`${registered.failures} registrations failed (${mode}): ${registered.first_error}`);
  const url = `ws://127.0.0.1:${new URL(stack.urls['realtime-gateway']).port}/api/v1/ws`;
  const per = clientProcs.map(
    (_, i) => Math.floor(settings.clients / clientProcs.length) + (i < settings.clients % clientProcs.length ? 1 : 0),
  );
  const results = await Promise.all(
    clientProcs.map((p, i) => p.ask({ cmd: 'connect', set: mode, url, count: per[i], concurrency: 50 }, 'connected', 120_000)),
  );
  const open = results.reduce((sum, r) => sum + r.open, 0);
  if (open < settings.clients)
    throw new Error(
      `only ${open} of ${settings.clients} WebSocket clients connected (${mode}): ${results.find((r) => r.first_error)?.first_error}`,
    );
  await waitUntil(
    `realtime-gateway to count ${open} clients (${mode})`,
    async () => metricSum(await scrapeMetrics(stack.urls['realtime-gateway']), 'beacon_gateway_clients', { transport: 'ws' }) === open,
    { timeoutMs: 20_000, proc: stack.proc },
  );
  log(`footprint ${mode}: ${settings.services} services registered (${registered.rps}/s), ${open} WebSocket clients connected`);
  await sleep(settings.settle_s * 1000);
  const rss = { ...(await settledRss(stack.proc.child.pid)), heap_used_kb: await heapUsedKb(stack.urls, mode) };
  await Promise.all(clientProcs.map((p) => p.ask({ cmd: 'disconnect', set: mode }, 'disconnected', 30_000)));
  return { ...rss, registrations_per_s: registered.rps, clients: open };
}

export async function run() {
  const tmp = makeTmp('beacon-bench-footprint-');
  const report = { settings, targets: TARGETS, starts: [], idle: {}, loaded: {} };
  const clientProcs = [];
  let stack = null;
  try {
    for (let i = 0; i < settings.client_processes; i++) clientProcs.push(await startHelper(`ws-clients-${i + 1}`, 'ws-clients.mjs'));
    // Cold starts, the modes alternating so that the machine's other load falls on both alike.
    for (let trial = 1; trial <= settings.starts; trial++) {
      for (const mode of trial % 2 ? MODES : [...MODES].reverse()) {
        stack = await launch(mode, tmp, trial);
        report.starts.push({ mode, trial, ms: stack.cold_start_ms });
        log(`footprint ${mode}: every app ready ${stack.cold_start_ms} ms after the launcher started (start ${trial})`);
        const last = trial === settings.starts;
        if (last) {
          await sleep(settings.settle_s * 1000);
          report.idle[mode] = { ...(await settledRss(stack.proc.child.pid)), heap_used_kb: await heapUsedKb(stack.urls, mode) };
          log(`footprint ${mode}: idle ${mb(report.idle[mode].total_kb)} MB (apps and nats-server)`);
          report.loaded[mode] = await loaded(stack, clientProcs, mode);
          log(`footprint ${mode}: loaded ${mb(report.loaded[mode].total_kb)} MB`);
        }
        await stopProcess(stack.proc, 30_000);
        stack = null;
      }
    }
  } finally {
    await stopAll([stack, ...clientProcs]);
    removeTmp(tmp);
  }
  return finish(report);
}

function finish(report) {
  const cold = Object.fromEntries(MODES.map((mode) => [mode, median(report.starts.filter((s) => s.mode === mode).map((s) => s.ms))]));
  report.cold_start_ms = cold;
  const idle = Object.fromEntries(MODES.map((mode) => [mode, mb(report.idle[mode].total_kb)]));
  const busy = Object.fromEntries(MODES.map((mode) => [mode, mb(report.loaded[mode].total_kb)]));
  const idlePass = idle.single <= TARGETS.idle_mb;
  const coldPass = cold.single <= TARGETS.cold_start_ms;
  const load = `${settings.services.toLocaleString('en')} services, ${settings.clients.toLocaleString('en')} WebSocket clients`;
  const rows = [
    {
      scenario: 'idle RSS, apps + nats-server (single process)',
      value: `${idle.single} MB`,
      baseline: `split ${idle.split} MB`,
      ratio: `${(idle.single / idle.split).toFixed(2)} × split`,
      target: `<= ${TARGETS.idle_mb} MB`,
      verdict: idlePass ? 'PASS' : 'FAIL',
      pass: idlePass,
    },
    {
      scenario: `cold start to every app ready (single, median of ${settings.starts})`,
      value: `${cold.single} ms`,
      baseline: `split ${cold.split} ms`,
      ratio: `${(cold.single / cold.split).toFixed(2)} × split`,
      target: `<= ${TARGETS.cold_start_ms} ms`,
      verdict: coldPass ? 'PASS' : 'FAIL',
      pass: coldPass,
    },
    {
      scenario: `RSS with ${load} (single)`,
      value: `${busy.single} MB`,
      baseline: `split ${busy.split} MB`,
      ratio: `${(busy.single / busy.split).toFixed(2)} × split`,
      target: '(info)',
      verdict: '(info)',
      info: true,
    },
    {
      scenario: 'idle PSS, apps + nats-server (shared pages split among processes)',
      value: `${mb(report.idle.single.pss_kb)} MB`,
      baseline: `split ${mb(report.idle.split.pss_kb)} MB`,
      ratio: `${(report.idle.single.pss_kb / report.idle.split.pss_kb).toFixed(2)} × split`,
      target: '(info)',
      verdict: '(info)',
      info: true,
    },
    {
      scenario: 'V8 heap used by the apps, idle / loaded',
      value: `${mb(report.idle.single.heap_used_kb)} / ${mb(report.loaded.single.heap_used_kb)} MB`,
      baseline: `split ${mb(report.idle.split.heap_used_kb)} / ${mb(report.loaded.split.heap_used_kb)} MB`,
      ratio: '',
      target: '(info)',
      verdict: '(info)',
      info: true,
    },
    {
      scenario: 'the launcher itself (not in the sums)',
      value: `${mb(report.idle.single.launcher_kb)} MB`,
      baseline: `split ${mb(report.idle.split.launcher_kb)} MB`,
      ratio: '',
      target: '(info)',
      verdict: '(info)',
      info: true,
    },
  ];
  const labels = [
    ...new Set(MODES.flatMap((mode) => [...Object.keys(report.idle[mode].processes), ...Object.keys(report.loaded[mode].processes)])),
  ];
  const detail = (markdown) =>
    [
      textTable(
        ['process', 'single idle MB', 'single loaded MB', 'split idle MB', 'split loaded MB'],
        [
          ...labels.map((label) => [
            label,
            ...MODES.flatMap((mode) =>
              [report.idle[mode].processes[label], report.loaded[mode].processes[label]].map((kb) => (kb ? String(mb(kb)) : '')),
            ),
          ]),
          ['total RSS', ...MODES.flatMap((mode) => [String(idle[mode]), String(busy[mode])])],
          ['total PSS', ...MODES.flatMap((mode) => [String(mb(report.idle[mode].pss_kb)), String(mb(report.loaded[mode].pss_kb))])],
          [
            'V8 heap used',
            ...MODES.flatMap((mode) => [String(mb(report.idle[mode].heap_used_kb)), String(mb(report.loaded[mode].heap_used_kb))]),
          ],
        ],
        { markdown, left: [0] },
      ),
      '',
      `cold starts (ms): ${MODES.map(
        (mode) =>
          `${mode} ${report.starts
            .filter((s) => s.mode === mode)
            .map((s) => s.ms)
            .join(', ')}`,
      ).join('; ')}`,
    ].join('\n');
  recordRows(report, rows);
  return {
    report,
    rows,
    text: detail(false),
    markdown: [
      `scripts/start.mjs without nginx, embedded SQLite store, its own nats-server; BEACON_MODE=single (the six apps in one Node process) and BEACON_MODE=split (one per app) in the same run. RSS is the sum of VmRSS over the processes the launcher started, ${settings.settle_s} s after every app was ready; loaded: ${load} (the clients in their own processes). Cold start: launcher spawned → every app's /ready 200, fresh data directory.`,
      '',
      detail(true),
    ].join('\n'),
  };
}
