/**
 * Probe throughput (issue 3 item 6). Local HTTP targets (bench/probe-targets.mjs: plain
 * node:http servers on 127.0.0.1, keep-alive, `{"status":"healthy"}`), N services
 * registered with health_check_url on them and health_check_interval 1, so the offered
 * load (N checks/s) exceeds what the probers can do. Three measured windows, same stack:
 *
 *   bare      bench/got-loop.mjs: got + keep-alive http.Agent, PROBE_CONCURRENCY requests in
 *             flight over the same URLs (no prober running)
 *   one       one health-prober: probe results per second on beacon.events.probe.result
 *             (bench NATS subscriber), cross-checked with beacon_probes_total deltas
 *   two       two health-prober replicas (each owns ~N/2): total results per second
 *
 * registry-api runs throughout (the probers' catalog comes from it) and, as deployed,
 * consumes every probe result (SQLite write, check history, a `service.renewed` event
 * that every prober's catalog view receives). CPU per process is recorded per window.
 *
 * Env: BENCH_PROBE_SERVICES=10000  BENCH_PROBE_TARGETS=4  BENCH_PROBE_CONCURRENCY=256  BENCH_PROBE_TARGET_DELAY_MS=0
 *      BENCH_PROBE_WARMUP=5  BENCH_PROBE_DURATION=15
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpuByProcess, sleep, stopProcess, waitUntil } from '../lib/procs.mjs';
import {
  envNumber,
  missingStack,
  log,
  metricSum,
  natsBenchClient,
  REPO,
  RESULTS,
  registerAll,
  scrapeMetrics,
  startHelper,
  startNats,
  startRegistryApi,
  startWorker,
  stopAll,
  textTable,
  makeTmp,
  removeTmp,
  recordRows,
} from '../lib/stack.mjs';
import { areasSideBySide, formatSummary, summarizeProfile } from '../summarize-profile.mjs';
import { createRequire } from 'node:module';

export const name = 'probe';
export const title = 'Probe throughput: health-prober vs a bare got loop, one and two replicas';

export const settings = {
  services: envNumber('BENCH_PROBE_SERVICES', 10_000),
  target_servers: envNumber('BENCH_PROBE_TARGETS', 4),
  /** > 0: targets answer this late (latency-bound variant; 0 = answer at once, a CPU-bound comparison). */
  target_delay_ms: envNumber('BENCH_PROBE_TARGET_DELAY_MS', 0),
  concurrency: envNumber('BENCH_PROBE_CONCURRENCY', 256),
  interval_s: 1,
  warmup_s: envNumber('BENCH_PROBE_WARMUP', 5),
  duration_s: envNumber('BENCH_PROBE_DURATION', 15),
  loader_concurrency: 64,
};

export const TARGETS = { one_vs_bare: 0.7, two_vs_one: 1.8 };

export function missing() {
  const out = missingStack(['registry-api', 'health-prober']);
  try {
    createRequire(join(REPO, 'apps', 'health-prober', 'package.json')).resolve('got');
  } catch {
    out.push('got in apps/health-prober/node_modules (run "pnpm install")');
  }
  return out;
}

const round = (v, d = 0) => Math.round(v * 10 ** d) / 10 ** d;

export async function run({ stamp, profileMode = 'on-miss' }) {
  const tmp = makeTmp('beacon-bench-probe-');
  const report = { settings, targets: TARGETS, checks: {}, windows: {} };
  const running = [];
  let client;
  try {
    const nats = await startNats(tmp);
    running.push(nats);
    const api = await startRegistryApi(nats.url, join(tmp, 'probe.db'), tmp);
    running.push(api);
    const targets = await startHelper('probe-targets', 'probe-targets.mjs', [
      String(settings.target_servers),
      String(settings.target_delay_ms),
    ]);
    running.push(targets);
    const ports = targets.ready.ports;
    const urls = Array.from({ length: settings.services }, (_, n) => `http://127.0.0.1:${ports[n % ports.length]}/health?svc=${n}`);

    // Every probe result the probers publish, counted as it arrives (per prober, ok or not).
    const results = { total: 0, ok: 0, byProber: new Map() };
    client = await natsBenchClient(nats.url);
    client.on('beacon.events.probe.result', (event) => {
      results.total += 1;
      const result = event?.result;
      if (result?.ok) results.ok += 1;
      const prober = result?.prober_id ?? '?';
      results.byProber.set(prober, (results.byProber.get(prober) ?? 0) + 1);
    });
    await client.flush();

    log(
      `probe: ${settings.target_servers} target servers (ports ${ports.join(', ')}${settings.target_delay_ms ? `, answering after ${settings.target_delay_ms} ms` : ''}); registering ${settings.services} services, health_check_interval ${settings.interval_s} s ...`,
    );
    const bodies = urls.map((url, n) => ({
      name: `probe-${stamp}-${n}`,
      type: 'http',
      host: '127.0.0.1',
      port: ports[n % ports.length],
      tags: ['bench-probe'],
      ttl: 300,
      health_check_url: url,
      health_check_interval: settings.interval_s,
    }));
    const load = await registerAll(api.url, bodies, settings.loader_concurrency);
    report.checks.load = {
      registered: load.services.filter(Boolean).length,
      failures: load.failures,
      seconds: load.seconds,
      rps: load.rps,
      first_error: load.first_error,
    };
    if (load.failures > 0) log(`probe: WARNING ${load.failures} registrations failed (first: ${load.first_error})`);
    log(
      `probe: registered in ${load.seconds} s; offered load ${settings.services / settings.interval_s} checks/s; concurrency ${settings.concurrency}; ${settings.warmup_s} s warm-up + ${settings.duration_s} s measured per window`,
    );

    const base = { 'registry-api': api.proc.child.pid, 'nats-server': nats.proc.child.pid, targets: targets.proc.child.pid };

    // 1. The bare got loop, alone.
    report.windows.bare = await bareWindow(urls, base, targets);

    // 2. One prober replica, then 3. two replicas, on the same stack and targets.
    const stack = { nats, api, tmp, base, results, targets, expected: report.checks.load.registered };
    report.windows.one = await proberWindow('one', ['bench-prober-1'], stack);
    report.windows.two = await proberWindow('two', ['bench-prober-a', 'bench-prober-b'], stack);

    const rows = buildRows(report);
    const missed = rows.some((row) => !row.info && !row.pass);
    if (profileMode === 'always' || (profileMode === 'on-miss' && missed)) {
      log(
        `probe: ${missed ? 'a target was missed: ' : ''}profiling one health-prober and the bare got loop under the same load (node --cpu-prof) ...`,
      );
      report.profiles = await profileProbers(stamp, urls, {
        nats,
        api,
        tmp,
        base,
        results,
        targets,
        expected: report.checks.load.registered,
      });
    }
    return finish(report, rows);
  } finally {
    await client?.close().catch(() => undefined);
    await stopAll([...running].reverse());
    removeTmp(tmp);
  }
}

async function bareWindow(urls, base, targets, { cpuProfDir } = {}) {
  const spawned = Date.now();
  const loop = await startHelper('got-loop', 'got-loop.mjs', [], {
    nodeArgs: cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [],
  });
  try {
    loop.send({ cmd: 'start', urls, concurrency: settings.concurrency });
    await sleep(settings.warmup_s * 1000);
    const t0 = await targets.ask({ cmd: 'stats' }, 'stats');
    const c0 = await loop.ask({ cmd: 'count' }, 'count');
    const cpu = cpuByProcess({ 'got-loop': loop.proc.child.pid, ...base });
    const windowStartedAt = Date.now();
    await sleep(settings.duration_s * 1000);
    const c1 = await loop.ask({ cmd: 'count' }, 'count');
    const cpuEnd = cpu.end();
    const t1 = await targets.ask({ cmd: 'stats' }, 'stats');
    const seconds = (c1.at - c0.at) / 1000;
    const window = {
      probes_per_s: round((c1.done - c0.done) / seconds),
      ok_per_s: round((c1.ok - c0.ok) / seconds),
      failed: c1.failed - c0.failed,
      last_error: c1.last_error,
      target_requests_per_s: round((t1.requests - t0.requests) / seconds),
      target_connections: t1.connections,
      seconds: round(seconds, 1),
      cpu: cpuEnd,
      started_ms_before_window: windowStartedAt - spawned,
    };
    log(
      `probe bare${cpuProfDir ? ' (prof)' : ''} got loop:  ${String(window.probes_per_s).padStart(6)} probes/s (${window.failed} failed)  ${cpuText(cpuEnd)}`,
    );
    return window;
  } finally {
    loop.send({ cmd: 'stop' });
    await stopProcess(loop.proc);
  }
}

/** Starts the probers, waits until they split the catalog, warms up, measures one window, stops them. */
async function proberWindow(label, memberIds, { nats, api, tmp, base, results, targets, expected }, { cpuProfDir } = {}) {
  const probers = [];
  try {
    for (const id of memberIds) {
      probers.push(
        await startWorker('health-prober', nats.url, tmp, {
          name: id,
          cpuProfDir,
          env: { PROBE_CONCURRENCY: String(settings.concurrency) },
        }),
      );
    }
    // Settled: together they own every target, each some (membership agreed, views synced).
    let owned = [];
    await waitUntil(
      `${memberIds.join(' + ')} to own all ${expected} targets`,
      async () => {
        owned = await Promise.all(probers.map(async (p) => metricSum(await scrapeMetrics(p.url), 'beacon_prober_owned_targets')));
        return owned.reduce((a, b) => a + b, 0) === expected && owned.every((n) => n > 0);
      },
      { timeoutMs: 30_000 },
    );
    const settledAt = Date.now();
    await sleep(settings.warmup_s * 1000);

    const snap = async () => ({
      nats_total: results.total,
      nats_ok: results.ok,
      byProber: new Map(results.byProber),
      at: performance.now(),
      metrics: await Promise.all(probers.map(async (p) => scrapeMetrics(p.url))),
      api: await scrapeMetrics(api.url),
      targets: await targets.ask({ cmd: 'stats' }, 'stats'),
    });
    const s0 = await snap();
    const named = { ...Object.fromEntries(probers.map((p) => [p.name, p.proc.child.pid])), ...base };
    const cpu = cpuByProcess(named);
    const windowStartedAt = Date.now();
    await sleep(settings.duration_s * 1000);
    const cpuEnd = cpu.end();
    const s1 = await snap();
    const seconds = (s1.at - s0.at) / 1000;
    const perProber = probers.map((p, i) => {
      const probes = metricSum(s1.metrics[i], 'beacon_probes_total') - metricSum(s0.metrics[i], 'beacon_probes_total');
      return {
        member: p.name,
        owned: metricSum(s1.metrics[i], 'beacon_prober_owned_targets'),
        probes_per_s_metric: round(probes / seconds),
        results_per_s_nats: round(((s1.byProber.get(p.name) ?? 0) - (s0.byProber.get(p.name) ?? 0)) / seconds),
        unhealthy_or_error: ['unhealthy', 'timeout', 'error', 'refused'].reduce(
          (sum, outcome) =>
            sum +
            metricSum(s1.metrics[i], 'beacon_probes_total', { outcome }) -
            metricSum(s0.metrics[i], 'beacon_probes_total', { outcome }),
          0,
        ),
        waiting_at_end: metricSum(s1.metrics[i], 'beacon_probes_waiting'),
        in_flight_at_end: metricSum(s1.metrics[i], 'beacon_probes_in_flight'),
        cpu_cores: cpuEnd.cores[p.name],
      };
    });
    const apiDelta = (result) =>
      metricSum(s1.api, 'beacon_probe_results_total', result ? { result } : {}) -
      metricSum(s0.api, 'beacon_probe_results_total', result ? { result } : {});
    const window = {
      probers: memberIds.length,
      probes_per_s: round((s1.nats_total - s0.nats_total) / seconds),
      ok_per_s: round((s1.nats_ok - s0.nats_ok) / seconds),
      probes_per_s_metric: round(perProber.reduce((sum, p) => sum + p.probes_per_s_metric, 0)),
      registry_applied_per_s: round(apiDelta('applied') / seconds),
      registry_failed: apiDelta('failed') + apiDelta('invalid'),
      target_requests_per_s: round((s1.targets.requests - s0.targets.requests) / seconds),
      per_prober: perProber,
      seconds: round(seconds, 1),
      cpu: cpuEnd,
      settled_ms_before_window: windowStartedAt - settledAt,
      started_ms_before_window: windowStartedAt - Math.min(...probers.map((p) => p.startedAt)),
    };
    const split =
      perProber.length > 1 ? ` [${perProber.map((p) => `${p.member} ${p.results_per_s_nats}/s, owns ${p.owned}`).join('; ')}]` : '';
    log(
      `probe ${label.padEnd(4)} prober(s): ${String(window.probes_per_s).padStart(6)} results/s on NATS (metrics ${window.probes_per_s_metric}/s; ` +
        `waiting at end ${perProber.map((p) => p.waiting_at_end).join('+')}; registry applied ${window.registry_applied_per_s}/s)${split}  ${cpuText(cpuEnd)}`,
    );
    return window;
  } finally {
    await Promise.all(probers.map((p) => stopProcess(p.proc)));
  }
}

/**
 * CPU profiles (node --cpu-prof) of one prober and of the bare got loop under the same
 * load, each over a fresh window; the summaries skip start-up, settling and warm-up.
 */
async function profileProbers(stamp, urls, context) {
  const dir = join(RESULTS, 'profiles', stamp);
  mkdirSync(dir, { recursive: true });
  const out = {};
  const capture = async (label, measure) => {
    const raw = join(context.tmp, `prof-${label}`);
    mkdirSync(raw, { recursive: true });
    const window = await measure(raw);
    const files = readdirSync(raw).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error(`no .cpuprofile written for ${label}`);
    const target = join(dir, `${label}.cpuprofile`);
    renameSync(join(raw, files[0]), target);
    const summary = summarizeProfile(target, { top: 25, skipMs: window.started_ms_before_window });
    out[label] = { file: relative(REPO, target), probes_per_s: window.probes_per_s, cpu: window.cpu, summary };
    log(`probe: profiled ${label}: ${window.probes_per_s} probes/s under the profiler -> ${relative(REPO, target)}`);
  };
  await capture('health-prober', (raw) => proberWindow('prof', ['bench-prober-prof'], context, { cpuProfDir: raw }));
  await capture('got-loop', (raw) => bareWindow(urls, context.base, context.targets, { cpuProfDir: raw }));
  return out;
}

/** Main-thread CPU per probe, by area, prober beside bare loop; then the prober's own summary. */
function profilesText(profiles) {
  const prober = profiles['health-prober'];
  const bare = profiles['got-loop'];
  const usPerProbe = (p, ms) => (p.probes_per_s > 0 ? (ms * 1000) / (p.summary.total_ms / 1000) / p.probes_per_s : 0);
  const rows = areasSideBySide(prober, bare, usPerProbe, { minimum: 1, digits: 0 });
  const total = (p) => usPerProbe(p, p.summary.busy_ms);
  rows.push(['TOTAL busy (main thread)', total(prober).toFixed(0), total(bare).toFixed(0)]);
  return [
    `Main-thread CPU per probe (µs), from the profiles: health-prober ${prober.probes_per_s}/s, bare got loop ${bare.probes_per_s}/s while profiled`,
    textTable(['area', 'prober µs/probe', 'bare µs/probe'], rows),
    '',
    formatSummary(prober.summary, { title: `health-prober profile (${prober.probes_per_s} results/s while profiled)`, inclusive: 20 }),
  ].join('\n');
}

function cpuText(cpu) {
  return `cpu: ${Object.entries(cpu.cores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ')}, other ${cpu.other.toFixed(2)}, machine ${cpu.machine_busy.toFixed(2)}/2`;
}

function buildRows(report) {
  const { bare, one, two } = report.windows;
  const oneRatio = round(one.probes_per_s / bare.probes_per_s, 2);
  const twoRatio = round(two.probes_per_s / one.probes_per_s, 2);
  const saturated = (w) =>
    (w.cpu.machine_busy >= 1.8 ? ` (machine ${w.cpu.machine_busy.toFixed(2)}/2 cores busy)` : '') +
    (w.per_prober?.some((p) => p.waiting_at_end === 0) ? ' [nothing waiting: offered load may be the limit]' : '');
  const perCore = (w, key) => {
    const cores = w.cpu.cores[key];
    return cores > 0 ? Math.round(w.probes_per_s / cores) : null;
  };
  const oneCores = one.per_prober[0].cpu_cores;
  const bareCores = bare.cpu.cores['got-loop'];
  const efficiency = oneCores > 0 && bareCores > 0 ? round(one.probes_per_s / oneCores / (bare.probes_per_s / bareCores), 2) : null;
  const stack = (report.stack_cost = stackCost(report));
  // Do replicas lose efficiency (each hears every catalog event, membership...) or only CPU?
  const twoCores = two.per_prober.reduce((sum, p) => sum + p.cpu_cores, 0);
  const twoPerCore = twoCores > 0 ? Math.round(two.probes_per_s / twoCores) : null;
  const onePerCore = perCore(one, one.per_prober[0].member);
  const twoEfficiency = twoPerCore && onePerCore ? round(twoPerCore / onePerCore, 2) : null;
  return [
    {
      scenario: 'probes/s, one prober vs bare got loop',
      value: `${one.probes_per_s}/s${saturated(one)}`,
      baseline: `bare ${bare.probes_per_s}/s${saturated(bare)}`,
      ratio: oneRatio.toFixed(2),
      target: `>= ${TARGETS.one_vs_bare} x bare`,
      verdict: oneRatio >= TARGETS.one_vs_bare ? 'PASS' : 'FAIL',
      pass: oneRatio >= TARGETS.one_vs_bare,
    },
    {
      scenario: 'probes/s, two probers vs one',
      value: `${two.probes_per_s}/s${saturated(two)}`,
      baseline: `one ${one.probes_per_s}/s`,
      ratio: twoRatio.toFixed(2),
      target: `>= ${TARGETS.two_vs_one} x one`,
      verdict: twoRatio >= TARGETS.two_vs_one ? 'PASS' : 'FAIL',
      pass: twoRatio >= TARGETS.two_vs_one,
    },
    {
      scenario: 'probes per CPU-second, one prober vs bare loop (info)',
      value: `${perCore(one, one.per_prober[0].member)}/core-s`,
      baseline: `bare ${perCore(bare, 'got-loop')}/core-s`,
      ratio: efficiency === null ? '-' : efficiency.toFixed(2),
      target: '(info)',
      verdict: '',
      info: true,
    },
    {
      scenario: 'probes per prober CPU-second, two replicas vs one (info)',
      value: `${twoPerCore}/core-s`,
      baseline: `one ${perCore(one, one.per_prober[0].member)}/core-s`,
      ratio: twoEfficiency === null ? '-' : twoEfficiency.toFixed(2),
      target: '(info)',
      verdict: '',
      info: true,
    },
    {
      scenario: 'whole-stack CPU per probe result, one prober (info)',
      value: `${stack.us_per_result} µs (prober ${stack.prober_us})`,
      baseline: `2 cores carry ~${stack.ceiling_per_s}/s; 1.8x one needs ~${stack.cores_for_target} cores`,
      ratio: '',
      target: '(info)',
      verdict: '',
      info: true,
    },
  ];
}

/** What the one-prober window says the whole stack costs per result, and what that allows on this machine. */
function stackCost(report) {
  const { one } = report.windows;
  const c = one.cpu.cores;
  const member = one.per_prober[0].member;
  const us = (cores) => Math.round((cores / one.probes_per_s) * 1e6);
  const stackCores = c[member] + c['registry-api'] + c['nats-server'] + c.targets;
  const perResult = stackCores / one.probes_per_s;
  return {
    us_per_result: us(stackCores),
    prober_us: us(c[member]),
    registry_api_us: us(c['registry-api']),
    nats_us: us(c['nats-server']),
    targets_us: us(c.targets),
    ceiling_per_s: Math.round(2 / perResult / 100) * 100,
    cores_for_target: round(TARGETS.two_vs_one * one.probes_per_s * perResult, 1),
  };
}

/** A few sentences from the numbers: what limited each window. */
function reading(report) {
  const { bare, one, two } = report.windows;
  const stack = report.stack_cost;
  const lines = [];
  const p1 = one.per_prober[0];
  const bareUs = Math.round((bare.cpu.cores['got-loop'] / bare.probes_per_s) * 1e6);
  lines.push(
    `- one vs bare: the prober used ${p1.cpu_cores.toFixed(2)} cores (a Node process does its work on one thread: ~1 core at most) with the machine at ${one.cpu.machine_busy.toFixed(2)}/2` +
      `${p1.cpu_cores >= 0.9 ? ', so it was CPU-bound on its own thread rather than starved by the machine' : ''}; ` +
      `it spent ${stack.prober_us} µs of CPU per probe against the bare loop's ${bareUs} µs, and registry-api + nats-server spent another ${stack.registry_api_us + stack.nats_us} µs applying and relaying each result.`,
  );
  const proberCores = two.per_prober.reduce((sum, p) => sum + p.cpu_cores, 0);
  lines.push(
    `- two vs one: the machine was at ${two.cpu.machine_busy.toFixed(2)}/2 cores${two.cpu.machine_busy >= 1.85 ? ' (saturated)' : ''}; the probers got ${proberCores.toFixed(2)} cores between them. ` +
      `At ${stack.us_per_result} µs of CPU per result for the whole stack (prober ${stack.prober_us}, registry-api ${stack.registry_api_us}, nats-server ${stack.nats_us}, targets ${stack.targets_us}), ` +
      `2 cores carry ~${stack.ceiling_per_s} results/s; 1.8 × one (${Math.round(TARGETS.two_vs_one * one.probes_per_s)}/s) would need ~${stack.cores_for_target} cores.`,
  );
  const idle = [...one.per_prober, ...two.per_prober].filter((p) => p.waiting_at_end === 0);
  if (idle.length > 0) {
    lines.push(
      `- WARNING: ${idle.map((p) => p.member).join(', ')} had no checks waiting at the end: the offered load (${settings.services}/s) may be the limit; raise BENCH_PROBE_SERVICES.`,
    );
  }
  return lines.join('\n');
}

function finish(report, rows) {
  const { bare, one, two } = report.windows;
  const labels = [
    'got-loop',
    ...one.per_prober.map((p) => p.member),
    ...two.per_prober.map((p) => p.member),
    'registry-api',
    'nats-server',
    'targets',
    'bench',
    'other',
    'machine',
  ];
  const cpuRow = (name, w) => [
    name,
    ...labels
      .map((l) => (l === 'other' ? w.cpu.other : l === 'machine' ? w.cpu.machine_busy : w.cpu.cores[l]) ?? null)
      .map((v) => (v === null ? '' : v.toFixed(2))),
  ];
  const cpuTable = (markdown) =>
    textTable(['window', ...labels], [cpuRow('bare', bare), cpuRow('one', one), cpuRow('two', two)], { markdown });
  const windowTable = (markdown) =>
    textTable(
      ['window', 'results/s (NATS)', 'probes/s (metrics)', 'ok/s', 'target req/s', 'registry applied/s', 'waiting at end', 'per replica'],
      [
        ['bare got loop', String(bare.probes_per_s), '', String(bare.ok_per_s), String(bare.target_requests_per_s), '', '', ''],
        ...[
          ['one prober', one],
          ['two probers', two],
        ].map(([name, w]) => [
          name,
          String(w.probes_per_s),
          String(w.probes_per_s_metric),
          String(w.ok_per_s),
          String(w.target_requests_per_s),
          String(w.registry_applied_per_s),
          w.per_prober.map((p) => p.waiting_at_end).join(' + '),
          w.per_prober.map((p) => `${p.results_per_s_nats}/s (owns ${p.owned})`).join(', '),
        ]),
      ],
      { markdown },
    );
  const profileText = report.profiles ? profilesText(report.profiles) : null;
  recordRows(report, rows);
  const readingText = reading(report);
  const text = [
    windowTable(false),
    '',
    readingText,
    '',
    'CPU per process during each measured window (cores of 2):',
    cpuTable(false),
    ...(profileText ? ['', profileText] : []),
  ].join('\n');
  const markdown = [
    `${settings.services} services registered with health_check_url on ${settings.target_servers} local node:http targets (keep-alive, \`{"status":"healthy"}\`${settings.target_delay_ms ? ` after ${settings.target_delay_ms} ms` : ' at once'}), health_check_interval ${settings.interval_s} s: offered load ${settings.services}/s. ` +
      `PROBE_CONCURRENCY ${settings.concurrency}; the bare loop (bench/got-loop.mjs) keeps as many got requests in flight with a keep-alive agent. ` +
      `${settings.warmup_s} s warm-up + ${settings.duration_s} s measured per window. registry-api consumes every probe result, as deployed.`,
    '',
    windowTable(true),
    '',
    readingText,
    '',
    '### CPU per process during each measured window (cores of 2)',
    '',
    cpuTable(true),
    '',
    '"waiting at end" = beacon_probes_waiting: checks due but waiting for a slot (> 0: the prober is saturated, the offered load is not the limit).',
    ...(profileText
      ? [
          '',
          `### CPU profiles: one health-prober and the bare got loop (\`${report.profiles['health-prober'].file}\`, \`${report.profiles['got-loop'].file}\`)`,
          '',
          '```',
          profileText,
          '```',
        ]
      : []),
  ].join('\n');
  return { report, rows, text, markdown };
}
