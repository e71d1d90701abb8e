/**
 * 100,000 services on one box. The whole stack (registry-api, ttl-reaper, health-prober,
 * realtime-gateway, mdns-announcer, node-role-elector, nats-server with JetStream) holds a
 * catalog of BENCH_SCALE_SERVICES services (5 types, 20 tags, metadata: bench/lib/dataset.mjs)
 * loaded through the REST API, and is measured:
 *
 *   memory      RSS of each process idle and at 100k, the whole stack's sum (target <= 1 GiB), and
 *               each consumer's RSS as a fraction of registry-api's (each holds its own copy of the catalog);
 *               the catalog is loaded with every app running, and the stack is measured again once every
 *               app has been restarted on it (copies built from snapshots, not event by event)
 *   single      the same stack as one Node process (single/, BEACON_APPS) beside nats-server
 *   latency     GET /api/v1/health p50 (target <= 5 ms) and a filtered list p50, wrk at 4 connections
 *   restart     registry-api stopped and started on its 100k-record database: spawn to /api/v1/health 200
 *   register    new registrations/s (wrk, 32 connections) with every app consuming the events, then
 *               with registry-api alone, same run (target: >= 0.6 x alone)
 *
 * registry-api runs with BEACON_REGISTRATIONS_PER_SECOND=0 (no per-client rate limit: the loader is
 * one client) and BEACON_MAX_SERVICES=0 (no cap; the default is 20,000).
 *
 * mdns-announcer (and the single process, which contains it) runs in a network namespace of its own
 * with a veth to the root namespace when it can (root and iproute2): announcing 100,000 services on
 * the machine's LAN, and into every socket on port 5353 of the root namespace (other test runs), is
 * not a side effect a benchmark should have. Elsewhere it announces on the default interfaces.
 *
 *   at rest     CPU per process over BENCH_SCALE_REST_S with nothing registered, and how long
 *               mdns-announcer takes to answer beacon.mdns.status meanwhile (info)
 *
 * Env: BENCH_SCALE_SERVICES=100000  BENCH_SCALE_CONCURRENCY=48  BENCH_SCALE_LATENCY_S=5
 *      BENCH_SCALE_REGISTER_S=8  BENCH_SCALE_SETTLE_S=5  BENCH_SCALE_REST_S=30  BENCH_SCALE_SINGLE=1  BENCH_CONNECTIONS=32
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findBinary, tcpOpen } from '../../scripts/lib/tools.mjs';
import { SCALE_FILTER_QUERY, scaleServiceInput } from '../lib/dataset.mjs';
import { cpuByProcess, freePort, httpOk, sleep, startProcess, stopProcess, waitUntil } from '../lib/procs.mjs';
import {
  REPO,
  RESULTS,
  appEntry,
  envNumber,
  fmtMs,
  log,
  makeTmp,
  metricSum,
  missingStack,
  natsBenchClient,
  percentile,
  recordRows,
  registerAll,
  removeTmp,
  scrapeMetrics,
  startWorker,
  textTable,
} from '../lib/stack.mjs';
import { findWrk, runWrk } from '../lib/wrk.mjs';
import { formatSummary, summarizeProfile } from '../summarize-profile.mjs';

export const name = 'scale';
export const title = '100,000 services on one box: memory per app and in all, /api/v1/health, restart, registration with every app running';

export const settings = {
  services: envNumber('BENCH_SCALE_SERVICES', 100_000),
  loader_concurrency: envNumber('BENCH_SCALE_CONCURRENCY', 48),
  latency_s: envNumber('BENCH_SCALE_LATENCY_S', 5),
  latency_connections: 4,
  register_s: envNumber('BENCH_SCALE_REGISTER_S', 8),
  register_connections: envNumber('BENCH_CONNECTIONS', 32),
  settle_s: envNumber('BENCH_SCALE_SETTLE_S', 5),
  rest_s: envNumber('BENCH_SCALE_REST_S', 30),
  single: process.env.BENCH_SCALE_SINGLE !== '0',
  filter_query: SCALE_FILTER_QUERY,
};

export const TARGETS = { stack_rss_mb: 1024, health_p50_ms: 5, register_ratio: 0.6 };

const CONSUMERS = ['ttl-reaper', 'health-prober', 'realtime-gateway', 'mdns-announcer', 'node-role-elector'];
const SINGLE_ENTRY = join(REPO, 'single', 'dist', 'main.js');

export function missing() {
  const out = missingStack(['registry-api', ...CONSUMERS]);
  if (!findWrk()) out.push('wrk (Debian/Ubuntu: sudo apt-get install wrk)');
  return out;
}

// --- processes ---

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss_mb: Math.round(kib('VmRSS') / 1024), peak_mb: Math.round(kib('VmHWM') / 1024) };
  } catch {
    return { rss_mb: 0, peak_mb: 0 };
  }
}

/**
 * A network namespace joined to this one by a veth pair, or null (with the reason logged)
 * where namespaces cannot be made. Removed by `dispose`, or on exit.
 */
function isolatedHost() {
  if (process.getuid?.() !== 0) {
    log('not root: mdns-announcer announces on this machine’s own interfaces');
    return null;
  }
  const id = process.pid % 250;
  const ns = `bcnscale${process.pid}`;
  const outer = `bsc${process.pid}o`.slice(0, 15);
  const inner = `bsc${process.pid}i`.slice(0, 15);
  const ip = (...args) => spawnSync('ip', args, { encoding: 'utf8' });
  const dispose = () => {
    ip('netns', 'del', ns);
    ip('link', 'del', outer);
  };
  const steps = [
    ['netns', 'add', ns],
    ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner],
    ['link', 'set', inner, 'netns', ns],
    ['addr', 'add', `10.203.${id}.1/24`, 'dev', outer],
    ['link', 'set', outer, 'up'],
    ['netns', 'exec', ns, 'ip', 'addr', 'add', `10.203.${id}.2/24`, 'dev', inner],
    ['netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up'],
    ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'],
  ];
  for (const step of steps) {
    const result = ip(...step);
    if (result.status !== 0) {
      dispose();
      log(
        `no network namespace (ip ${step.join(' ')}: ${(result.stderr || result.error?.message || '').trim()}): mdns-announcer announces on this machine’s own interfaces`,
      );
      return null;
    }
  }
  process.once('exit', dispose);
  return { ns, rootIp: `10.203.${id}.1`, ip: `10.203.${id}.2`, dispose };
}

const baseEnv = (extra) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...extra });

/** A Node entry point, inside `host`'s namespace when given; resolves once `readyPath` answers 200. */
async function launch(label, entry, env, { host, url, readyPath, cwd, cpuProfDir }) {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const [command, args] = host
    ? ['ip', ['netns', 'exec', host.ns, process.execPath, ...nodeArgs, entry]]
    : [process.execPath, [...nodeArgs, entry]];
  const proc = startProcess(label, command, args, { cwd, env: baseEnv(env) });
  const started = performance.now();
  await waitUntil(`${label} ${readyPath}`, () => httpOk(`${url}${readyPath}`), { proc, timeoutMs: 90_000 });
  return { proc, name: label, url, ready_s: Math.round((performance.now() - started) / 100) / 10 };
}

async function startNatsAt(tmp, host) {
  const port = await freePort();
  const proc = startProcess('nats-server', findBinary('nats-server'), [
    '-js',
    '-a',
    host,
    '-p',
    String(port),
    '-sd',
    join(tmp, 'jetstream'),
  ]);
  await waitUntil(`nats-server on ${host}:${port}`, () => tcpOpen(port, host), { proc });
  return { proc, port, url: `nats://${host}:${port}`, name: 'nats-server' };
}

const registryEnv = (natsUrl, dbPath) => ({
  NATS_URL: natsUrl,
  BEACON_SQLITE_PATH: dbPath,
  // One loader client at thousands a second, into a catalog past the default cap.
  BEACON_REGISTRATIONS_PER_SECOND: '0',
  BEACON_MAX_SERVICES: '0',
});

async function startRegistry(ctx, { cpuProfDir } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...registryEnv(ctx.nats.url, ctx.dbPath), BEACON_PORT: String(port), BEACON_HOST: '127.0.0.1' };
  return launch('registry-api', appEntry('registry-api'), env, { url, readyPath: '/api/v1/health', cwd: ctx.tmp, cpuProfDir });
}

async function startConsumer(ctx, app, { cpuProfDir } = {}) {
  if (app === 'mdns-announcer') {
    const host = ctx.host;
    const port = await freePort();
    const address = host?.ip ?? '127.0.0.1';
    const env = {
      NATS_URL: ctx.nats.url,
      HTTP_PORT: String(port),
      HTTP_HOST: address,
      MDNS_HOSTNAME: 'beacon-bench',
      ...(host && { MDNS_INTERFACE: host.ip }),
    };
    return launch(app, appEntry(app), env, { host, url: `http://${address}:${port}`, readyPath: '/ready', cwd: ctx.tmp, cpuProfDir });
  }
  if (app === 'node-role-elector') {
    const port = await freePort();
    const env = {
      NATS_URL: ctx.nats.url,
      NODE_ID: 'bench-node',
      ELECTOR_PORT: String(port),
      ELECTOR_HOST: '127.0.0.1',
      SERVER_ADVERTISE_HOST: '127.0.0.1',
    };
    return launch(app, appEntry(app), env, { url: `http://127.0.0.1:${port}`, readyPath: '/ready', cwd: ctx.tmp, cpuProfDir });
  }
  return startWorker(app, ctx.nats.url, ctx.tmp, { cpuProfDir });
}

/** Every app as its own process, registry-api first; `stack.apps` by name. */
async function startStack(ctx, options = {}) {
  const registry = await startRegistry(ctx, options);
  const stack = { registry, apps: { 'registry-api': registry } };
  await startConsumers(ctx, stack, options);
  return stack;
}

async function startConsumers(ctx, stack, options = {}) {
  const consumers = await Promise.all(CONSUMERS.map((app) => startConsumer(ctx, app, options)));
  CONSUMERS.forEach((app, index) => (stack.apps[app] = consumers[index]));
}

async function stopConsumers(stack) {
  await Promise.all(CONSUMERS.map((app) => stack.apps[app] && stopProcess(stack.apps[app].proc)));
  for (const app of CONSUMERS) delete stack.apps[app];
}

/** The six apps in one Node process (single/), inside the namespace when there is one. */
async function startSingle(ctx) {
  const host = ctx.host;
  const address = host?.ip ?? '127.0.0.1';
  const ports = Object.fromEntries(await Promise.all(['registry-api', ...CONSUMERS].map(async (app) => [app, String(await freePort())])));
  const http = (app) => ({ HTTP_PORT: ports[app], HTTP_HOST: address });
  const perApp = {
    'registry-api': { BEACON_PORT: ports['registry-api'], BEACON_HOST: address },
    'ttl-reaper': http('ttl-reaper'),
    'health-prober': http('health-prober'),
    'realtime-gateway': { ...http('realtime-gateway'), GATEWAY_MAX_CLIENTS_PER_ADDRESS: '0' },
    'mdns-announcer': { ...http('mdns-announcer'), MDNS_HOSTNAME: 'beacon-bench', ...(host && { MDNS_INTERFACE: host.ip }) },
    'node-role-elector': {
      ELECTOR_PORT: ports['node-role-elector'],
      ELECTOR_HOST: address,
      NODE_ID: 'bench-node',
      SERVER_ADVERTISE_HOST: address,
    },
  };
  const env = { ...registryEnv(ctx.nats.url, ctx.dbPath), BEACON_APPS: 'all', BEACON_APP_ENV: JSON.stringify(perApp) };
  const url = `http://${address}:${ports['registry-api']}`;
  const single = await launch('beacon-single', SINGLE_ENTRY, env, { host, url, readyPath: '/api/v1/health', cwd: ctx.tmp });
  return { single, registryUrl: url, reaperUrl: `http://${address}:${ports['ttl-reaper']}` };
}

/**
 * Until the consumers hold the whole catalog: ttl-reaper owns every service and
 * mdns-announcer announces every one (both count their copies); health-prober and
 * realtime-gateway have no such count, so everyone gets `settle_s` more.
 */
async function converged(registryUrl, reaperUrl, total) {
  let last = {};
  await waitUntil(
    `consumers holding ${total} services`,
    async () => {
      const health = await (await fetch(`${registryUrl}/api/v1/health`, { signal: AbortSignal.timeout(5000) })).json();
      const owned = metricSum(await scrapeMetrics(reaperUrl), 'beacon_reaper_owned_services');
      last = { registry: health.services?.total, mdns: health.mdns?.registered_services, reaper: owned };
      return last.registry >= total && last.mdns >= total && owned >= total;
    },
    { timeoutMs: 180_000 },
  ).catch((error) => {
    throw new Error(`${error.message}\nlast counts: ${JSON.stringify(last)}`, { cause: error });
  });
  await sleep(settings.settle_s * 1000);
  return last;
}

/**
 * `rest_s` with nothing registered: what keeping 100,000 services costs each process (the
 * consumers' periodic resyncs, reconciles, expiry timers), and how long mdns-announcer
 * takes to answer `beacon.mdns.status` meanwhile (what /api/v1/health asks it).
 */
async function atRest(ctx, pids) {
  const client = await natsBenchClient(ctx.nats.url);
  const window = cpuByProcess(pids);
  const replies = [];
  let unanswered = 0;
  const until = Date.now() + settings.rest_s * 1000;
  try {
    while (Date.now() < until) {
      const started = performance.now();
      try {
        await client.nc.request('beacon.mdns.status', new TextEncoder().encode('{}'), { timeout: 1000 });
        replies.push(performance.now() - started);
      } catch {
        unanswered += 1;
      }
      await sleep(200);
    }
  } finally {
    await client.close();
  }
  const cpu = window.end();
  return { cpu, mdns_status_ms: { p50: percentile(replies, 50), p99: percentile(replies, 99), max: percentile(replies, 100), unanswered } };
}

async function latency(url) {
  const common = { url, mode: 'get', threads: 1, connections: settings.latency_connections };
  await runWrk({ ...common, seconds: 1 });
  return runWrk({ ...common, seconds: settings.latency_s });
}

async function registrationRate(stack, label, otherPids) {
  const common = { url: stack.registry.url, mode: 'register', threads: 1, connections: settings.register_connections };
  await runWrk({ ...common, seconds: 2, prefix: `warm-${label}` });
  const window = cpuByProcess({ 'registry-api': stack.registry.proc.child.pid, ...otherPids });
  const result = await runWrk({ ...common, seconds: settings.register_s, prefix: label });
  result.cpu = window.end();
  log(
    `register, ${label.padEnd(12)} ${String(result.ok_rps).padStart(8)}/s  p50 ${fmtMs(result.p50_ms)}  CPU ${JSON.stringify(result.cpu.cores)}`,
  );
  return result;
}

/** Every app with --cpu-prof while new registrations arrive; summaries of where the time goes. */
async function profileAllRunning(ctx, stamp) {
  const dir = join(RESULTS, 'profiles', stamp);
  mkdirSync(dir, { recursive: true });
  const raw = Object.fromEntries(['registry-api', ...CONSUMERS].map((app) => [app, join(ctx.tmp, `prof-${app}`)]));
  for (const path of Object.values(raw)) mkdirSync(path, { recursive: true });
  const spawned = Date.now();
  const registry = await startRegistry(ctx, { cpuProfDir: raw['registry-api'] });
  const consumers = await Promise.all(CONSUMERS.map((app) => startConsumer(ctx, app, { cpuProfDir: raw[app] })));
  await sleep(settings.settle_s * 1000);
  const skipMs = Date.now() - spawned;
  const wrk = await runWrk({
    url: registry.url,
    mode: 'register',
    threads: 1,
    connections: settings.register_connections,
    seconds: settings.register_s,
    prefix: 'prof',
  });
  await Promise.all(consumers.map((proc) => stopProcess(proc.proc)));
  await stopProcess(registry.proc);
  const out = {};
  for (const [app, path] of Object.entries(raw)) {
    const file = readdirSync(path).find((entry) => entry.endsWith('.cpuprofile'));
    if (!file) continue;
    const target = join(dir, `scale-${app}.cpuprofile`);
    renameSync(join(path, file), target);
    out[app] = { file: relative(REPO, target), summary: summarizeProfile(target, { top: 15, skipMs }) };
  }
  log(`profiled every app at ${wrk.ok_rps} registrations/s -> ${relative(REPO, dir)}`);
  return { wrk: { ok_rps: wrk.ok_rps, p50_ms: wrk.p50_ms }, apps: out };
}

// --- report ---

const mb = (value) => `${value} MB`;

function buildRows(r, checks) {
  const rows = [];
  const stackRss = r.memory.stack_rss_mb;
  rows.push({
    scenario: `whole stack RSS @${r.loaded} (6 apps + nats-server)`,
    value: mb(stackRss),
    baseline: `idle ${mb(r.memory.idle_stack_rss_mb)}`,
    target: `<= ${TARGETS.stack_rss_mb} MB`,
    pass: stackRss <= TARGETS.stack_rss_mb,
  });
  if (r.single) {
    rows.push({
      scenario: `whole stack RSS @${r.loaded}, one process (single/)`,
      value: mb(r.single.stack_rss_mb),
      baseline: `separate ${mb(stackRss)}`,
      ratio: (r.single.stack_rss_mb / stackRss).toFixed(2),
      target: `<= ${TARGETS.stack_rss_mb} MB`,
      pass: r.single.stack_rss_mb <= TARGETS.stack_rss_mb,
    });
  }
  if (r.memory.restarted) {
    rows.push({
      scenario: `whole stack RSS @${r.loaded}, every app restarted on it`,
      value: mb(r.memory.restarted_stack_rss_mb),
      baseline: `grown ${mb(stackRss)}`,
      ratio: (r.memory.restarted_stack_rss_mb / stackRss).toFixed(2),
      target: '(info)',
      info: true,
    });
  }
  const registryRss = r.memory.loaded['registry-api'].rss_mb;
  for (const [app, memory] of Object.entries(r.memory.loaded)) {
    const consumer = CONSUMERS.includes(app);
    rows.push({
      scenario: `RSS ${app}${consumer ? ' (÷ registry-api)' : ''}`,
      value: mb(memory.rss_mb),
      baseline: `idle ${mb(r.memory.idle[app].rss_mb)}`,
      ratio: consumer ? (memory.rss_mb / registryRss).toFixed(2) : '',
      target: '(info)',
      info: true,
    });
  }
  rows.push({
    scenario: `GET /api/v1/health p50 @${r.loaded}`,
    value: fmtMs(r.health.p50_ms),
    baseline: `p99 ${fmtMs(r.health.p99_ms)}`,
    target: `<= ${TARGETS.health_p50_ms} ms`,
    pass: r.health.p50_ms <= TARGETS.health_p50_ms,
  });
  const restCores = Object.entries(r.rest.cpu.cores)
    .filter(([label]) => label !== 'bench')
    .reduce((total, [, cores]) => total + cores, 0);
  rows.push({
    scenario: `CPU at rest @${r.loaded}, whole stack (${settings.rest_s} s)`,
    value: `${restCores.toFixed(2)} cores`,
    baseline: `registry-api ${r.rest.cpu.cores['registry-api']}`,
    target: '(info)',
    info: true,
  });
  rows.push({
    scenario: 'beacon.mdns.status round trip at rest (what health asks)',
    value: fmtMs(r.rest.mdns_status_ms.p50),
    baseline: `p99 ${fmtMs(r.rest.mdns_status_ms.p99)}`,
    target: '(info)',
    info: true,
  });
  rows.push({
    scenario: `filtered list p50 @${r.loaded} (${checks.filter_total} match)`,
    value: fmtMs(r.filter.p50_ms),
    baseline: `p99 ${fmtMs(r.filter.p99_ms)}`,
    target: '(info)',
    info: true,
  });
  rows.push({
    scenario: `registry-api restart to healthy @${r.loaded}`,
    value: `${r.restart.ready_s} s`,
    baseline: `stop ${r.restart.stop_s} s`,
    target: '(info)',
    info: true,
  });
  const ratio = r.register.all.ok_rps / r.register.alone.ok_rps;
  rows.push({
    scenario: 'registrations/s, every app running vs registry-api alone',
    value: `${Math.round(r.register.all.ok_rps)}/s`,
    baseline: `alone ${Math.round(r.register.alone.ok_rps)}/s`,
    ratio: ratio.toFixed(2),
    target: `>= ${TARGETS.register_ratio} x alone`,
    pass: ratio >= TARGETS.register_ratio,
  });
  return rows.map((row) => ({ ratio: '', ...row, verdict: row.info ? '(info)' : row.pass ? 'PASS' : 'FAIL' }));
}

function table(rows, markdown) {
  return textTable(
    ['scenario', 'value', 'baseline', 'ratio', 'target', 'verdict'],
    rows.map((row) => [row.scenario, row.value, row.baseline, row.ratio, row.target, row.verdict]),
    { markdown, left: [0, 2, 4, 5] },
  );
}

function details(report, rows, markdown) {
  const r = report.results;
  const lines = [
    `${r.loaded} services (5 types, 20 tags, metadata) registered through the API in ${r.load.seconds} s (${r.load.rps}/s, ${r.load.failures} failures, ${settings.loader_concurrency} concurrent) ` +
      `with every app running; registry-api with BEACON_REGISTRATIONS_PER_SECOND=0 and BEACON_MAX_SERVICES=0. ` +
      `mdns-announcer ${report.checks.isolated ? 'in a network namespace of its own' : 'on this machine’s interfaces'}. ` +
      `Latency: wrk ${settings.latency_connections} connections, ${settings.latency_s} s. Registration: wrk ${settings.register_connections} connections, ${settings.register_s} s each, into the loaded catalog.`,
    '',
    table(rows, markdown),
    '',
    `Peak RSS (VmHWM) @${r.loaded}: ${Object.entries(r.memory.loaded)
      .map(([app, memory]) => `${app} ${memory.peak_mb} MB`)
      .join(', ')}.`,
    `Counts when measured: ${JSON.stringify(report.checks.converged)}; restart: registry-api answered ${r.restart.total} services.`,
    `CPU (cores) at rest for ${settings.rest_s} s: ${JSON.stringify(r.rest.cpu.cores)} (other processes on the machine ${r.rest.cpu.other}); beacon.mdns.status max ${fmtMs(r.rest.mdns_status_ms.max)}, ${r.rest.mdns_status_ms.unanswered} unanswered within 1 s.`,
    `CPU (cores) while registering, every app: ${JSON.stringify(r.register.all.cpu.cores)}; alone: ${JSON.stringify(r.register.alone.cpu.cores)}.`,
  ];
  if (r.memory.restarted)
    lines.push(
      `Every app restarted on the catalog (copies from snapshots): ${Object.entries(r.memory.restarted)
        .map(([app, memory]) => `${app} ${memory.rss_mb} MB`)
        .join(', ')}.`,
    );
  if (r.single)
    lines.push(
      `One process: ${r.single.rss_mb} MB + nats-server ${r.single.nats_rss_mb} MB (peak ${r.single.peak_mb} MB), ready in ${r.single.ready_s} s.`,
    );
  else lines.push(`One process: not measured (${report.checks.single_skipped}).`);
  for (const [app, profile] of Object.entries(report.profiles?.apps ?? {})) {
    lines.push(
      '',
      markdown ? '```' : '',
      formatSummary(profile.summary, { title: `${app} while registering (${profile.file})`, inclusive: 8 }),
      markdown ? '```' : '',
    );
  }
  return lines.join('\n');
}

export async function run({ stamp, profileMode = 'on-miss' }) {
  const tmp = makeTmp('beacon-bench-scale-');
  const host = isolatedHost();
  const ctx = { tmp, host, dbPath: join(tmp, 'scale.db') };
  const report = { settings, targets: TARGETS, results: {}, checks: { isolated: host !== null } };
  const r = report.results;
  let stack = null;
  const stopStack = async () => {
    if (!stack) return;
    await stopConsumers(stack);
    await stopProcess(stack.registry.proc);
    stack = null;
  };
  try {
    ctx.nats = await startNatsAt(tmp, host?.rootIp ?? '127.0.0.1');
    stack = await startStack(ctx);
    const natsPid = ctx.nats.proc.child.pid;
    const measure = () => {
      const apps = Object.fromEntries(Object.entries(stack.apps).map(([app, proc]) => [app, memoryOf(proc.proc.child.pid)]));
      apps['nats-server'] = memoryOf(natsPid);
      return apps;
    };
    await sleep(2000);
    const idle = measure();
    log(
      `idle: ${Object.entries(idle)
        .map(([app, m]) => `${app} ${m.rss_mb} MB`)
        .join(', ')}`,
    );

    // With every app consuming the events as they come, as the catalog would grow in use
    // (copies built from a snapshot after a restart are smaller: the `restarted` row).
    log(`registering ${settings.services} services with every app running (${settings.loader_concurrency} concurrent requests) ...`);
    const bodies = Array.from({ length: settings.services }, (_, n) => scaleServiceInput(n));
    const load = await registerAll(stack.registry.url, bodies, settings.loader_concurrency);
    r.load = { seconds: load.seconds, rps: load.rps, failures: load.failures, first_error: load.first_error };
    log(`loaded in ${load.seconds} s (${load.rps}/s, ${load.failures} failures${load.first_error ? `: ${load.first_error}` : ''})`);
    report.checks.converged = await converged(stack.registry.url, stack.apps['ttl-reaper'].url, settings.services);
    r.loaded = report.checks.converged.registry;
    const loaded = measure();
    const sum = (memory) => Object.values(memory).reduce((total, m) => total + m.rss_mb, 0);
    r.memory = { idle, loaded, idle_stack_rss_mb: sum(idle), stack_rss_mb: sum(loaded) };
    log(
      `@${r.loaded}: ${Object.entries(loaded)
        .map(([app, m]) => `${app} ${m.rss_mb} MB`)
        .join(', ')}; whole stack ${r.memory.stack_rss_mb} MB`,
    );

    const pids = Object.fromEntries(Object.entries(stack.apps).map(([app, proc]) => [app, proc.proc.child.pid]));
    r.rest = await atRest(ctx, { ...pids, 'nats-server': natsPid });
    log(
      `at rest for ${settings.rest_s} s: CPU ${JSON.stringify(r.rest.cpu.cores)}; beacon.mdns.status p50 ${fmtMs(r.rest.mdns_status_ms.p50)}, ` +
        `p99 ${fmtMs(r.rest.mdns_status_ms.p99)}, max ${fmtMs(r.rest.mdns_status_ms.max)}`,
    );
    r.health = await latency(`${stack.registry.url}/api/v1/health`);
    const filterBody = await (await fetch(`${stack.registry.url}/api/v1/services?${SCALE_FILTER_QUERY}`)).json();
    report.checks.filter_total = filterBody.total;
    r.filter = await latency(`${stack.registry.url}/api/v1/services?${SCALE_FILTER_QUERY}`);
    log(`GET /api/v1/health p50 ${fmtMs(r.health.p50_ms)}; filtered list p50 ${fmtMs(r.filter.p50_ms)} (${filterBody.total} match)`);

    const stopping = performance.now();
    await stopProcess(stack.registry.proc);
    const stopS = Math.round((performance.now() - stopping) / 100) / 10;
    stack.registry = await startRegistry(ctx);
    stack.apps['registry-api'] = stack.registry;
    const afterRestart = await (await fetch(`${stack.registry.url}/api/v1/health`)).json();
    r.restart = { stop_s: stopS, ready_s: stack.registry.ready_s, total: afterRestart.services?.total };
    log(`registry-api restart: healthy ${r.restart.ready_s} s after spawn (stopping took ${stopS} s), ${r.restart.total} services`);

    if (settings.single && existsSync(SINGLE_ENTRY)) {
      await stopStack();
      log('the same catalog in one process (single/, BEACON_APPS=all) ...');
      const single = await startSingle(ctx);
      try {
        await converged(single.registryUrl, single.reaperUrl, r.loaded);
        const memory = memoryOf(single.single.proc.child.pid);
        const nats = memoryOf(natsPid);
        r.single = { ...memory, nats_rss_mb: nats.rss_mb, stack_rss_mb: memory.rss_mb + nats.rss_mb, ready_s: single.single.ready_s };
        log(`one process: ${memory.rss_mb} MB + nats-server ${nats.rss_mb} MB = ${r.single.stack_rss_mb} MB`);
      } finally {
        await stopProcess(single.single.proc);
      }
      stack = await startStack(ctx);
      await converged(stack.registry.url, stack.apps['ttl-reaper'].url, r.loaded);
      r.memory.restarted = measure();
      r.memory.restarted_stack_rss_mb = sum(r.memory.restarted);
      log(`every app restarted on the catalog: whole stack ${r.memory.restarted_stack_rss_mb} MB`);
    } else {
      report.checks.single_skipped = settings.single ? `${relative(REPO, SINGLE_ENTRY)} not built` : 'BENCH_SCALE_SINGLE=0';
    }

    const consumerPids = Object.fromEntries(CONSUMERS.map((app) => [app, stack.apps[app].proc.child.pid]));
    const all = await registrationRate(stack, 'all-apps', { ...consumerPids, 'nats-server': natsPid });
    await stopConsumers(stack);
    await sleep(1000);
    const alone = await registrationRate(stack, 'alone', { 'nats-server': natsPid });
    r.register = { all, alone };
    await stopStack();

    const rows = buildRows(r, report.checks);
    recordRows(report, rows);
    const ratioMissed = all.ok_rps / alone.ok_rps < TARGETS.register_ratio;
    if (profileMode === 'always' || (profileMode === 'on-miss' && ratioMissed)) {
      log(`${ratioMissed ? 'registration with every app running missed its target: ' : ''}profiling every app while registering ...`);
      report.profiles = await profileAllRunning(ctx, stamp);
    }
    for (const result of [r.health, r.filter, all, alone]) delete result.raw;
    return { report, rows, text: details(report, rows, false), markdown: details(report, rows, true) };
  } finally {
    await stopStack();
    if (ctx.nats) await stopProcess(ctx.nats.proc);
    host?.dispose();
    removeTmp(tmp);
  }
}
