/**
 * Registry benchmark (issue 2 item 7). Each scenario runs against the real registry-api
 * (SQLite store, real nats-server with JetStream) and, right after with the same wrk
 * settings, against a bare Fastify server doing the minimum work of the route
 * (bench/bare-server.mjs):
 *
 *   register  POST /api/v1/services/register, a unique name per request (a new record each time)
 *   filter    GET /api/v1/services?type=http&tags=zone-1&metadata.rack=r3&limit=50 over
 *             exactly 10,000 registered services (300 match; first 50 returned + total)
 *
 * Env: BENCH_DURATION=10  BENCH_WARMUP=3  BENCH_THREADS=1  BENCH_CONNECTIONS=32  BENCH_LOW_CONNECTIONS=4
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FILTER_QUERY, serviceInput } from '../lib/dataset.mjs';
import { cpuWindow, freePort, httpOk, startProcess, stopProcess, waitUntil } from '../lib/procs.mjs';
import {
  BENCH_DIR,
  missingStack,
  fmtMs,
  log,
  REPO,
  RESULTS,
  startNats,
  startRegistryApi,
  makeTmp,
  removeTmp,
  envNumber,
  recordRows,
} from '../lib/stack.mjs';
import { findWrk, runWrk } from '../lib/wrk.mjs';
import { formatSummary, summarizeProfile } from '../summarize-profile.mjs';

export const name = 'registry';
export const title = 'Registry: registration and filtered list vs a bare Fastify server';

export const settings = {
  warmup_s: envNumber('BENCH_WARMUP', 3),
  duration_s: envNumber('BENCH_DURATION', 10),
  threads: envNumber('BENCH_THREADS', 1),
  connections: envNumber('BENCH_CONNECTIONS', 32),
  low_connections: envNumber('BENCH_LOW_CONNECTIONS', 4),
  low_duration_s: Math.max(3, Math.round(envNumber('BENCH_DURATION', 10) / 2)),
  records: 10_000,
  loader_concurrency: 32,
  filter_query: FILTER_QUERY,
};

export const TARGETS = {
  register_ratio: 0.4,
  filter_ratio: 0.5,
  filter_p99_ms: 10,
};

export function missing() {
  const out = missingStack(['registry-api'], { natsClient: false });
  if (!findWrk()) out.push('wrk (Debian/Ubuntu: sudo apt-get install wrk)');
  return out;
}

async function startBare() {
  const port = await freePort();
  const proc = startProcess('bare-server', process.execPath, [join(BENCH_DIR, 'bare-server.mjs'), String(port), String(settings.records)]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('bare server', () => httpOk(`${url}/health`), { proc });
  return { proc, port, url, name: 'bare' };
}

/** Registers records [from, to) through the real API with `concurrency` requests in flight. */
async function loadServices(url, from, to, concurrency) {
  let next = from;
  let failures = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < to) {
      const n = next++;
      const response = await fetch(`${url}/api/v1/services/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(serviceInput(n)),
      });
      const text = await response.text();
      if (response.status !== 201) {
        failures += 1;
        if (failures <= 3) log(`loader: record ${n} got ${response.status}: ${text.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { records: to - from, failures, seconds: Math.round(seconds * 100) / 100, rps: Math.round((to - from) / seconds) };
}

async function getJson(url) {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

/** Warm-up run, then the measured run inside a CPU window. */
async function scenario(
  label,
  server,
  otherPids,
  { mode, path, connections = settings.connections, seconds = settings.duration_s, warmup = settings.warmup_s },
) {
  const url = `${server.url}${path}`;
  const common = { url, mode, threads: settings.threads, connections };
  if (warmup > 0) await runWrk({ ...common, seconds: warmup, prefix: `warm-${label}` });
  const window = cpuWindow(server.proc.child.pid, otherPids);
  const result = await runWrk({ ...common, seconds, prefix: `bench-${label}` });
  result.cpu = window.end();
  const noise = result.cpu.foreign_cores >= 0.25 ? `  [other load on the machine: ${result.cpu.foreign_cores} cores]` : '';
  log(
    `${label.padEnd(22)} ${String(result.rps).padStart(9)} req/s  p50 ${fmtMs(result.p50_ms)}  p99 ${fmtMs(result.p99_ms)}  ` +
      `server ${result.cpu.server_cores} cores${result.error_count ? `  ERRORS ${JSON.stringify(result.errors)}` : ''}${noise}`,
  );
  return result;
}

function verdict(pass, beacon) {
  if (beacon.error_count > 0) return pass ? 'PASS*' : 'FAIL*';
  return pass ? 'PASS' : 'FAIL';
}

function buildRows(r) {
  const ratio = (a, b) => Math.round((a.rps / b.rps) * 100) / 100;
  const rows = [];
  const reg = ratio(r.register.beacon, r.register.bare);
  rows.push({
    scenario: 'register (POST, new record each)',
    beacon: r.register.beacon,
    bare: r.register.bare,
    ratio: reg,
    target: `>= ${TARGETS.register_ratio} x bare`,
    verdict: verdict(reg >= TARGETS.register_ratio, r.register.beacon),
    pass: reg >= TARGETS.register_ratio,
  });
  const filt = ratio(r.filter.beacon, r.filter.bare);
  rows.push({
    scenario: 'filter @10k (GET, 50 of 300)',
    beacon: r.filter.beacon,
    bare: r.filter.bare,
    ratio: filt,
    target: `>= ${TARGETS.filter_ratio} x bare`,
    verdict: verdict(filt >= TARGETS.filter_ratio, r.filter.beacon),
    pass: filt >= TARGETS.filter_ratio,
  });
  // Latency is judged where the client is not queueing behind itself: at 32 connections
  // on 2 cores, p99 is mostly waiting in line (the bare route's own p99 is ~17 ms there).
  const latency = r.filterLow ?? r.filter;
  const connections = r.filterLow ? settings.low_connections : settings.connections;
  const p99ok = latency.beacon.p99_ms < TARGETS.filter_p99_ms;
  rows.push({
    scenario: `filter @10k p99, ${connections} conns`,
    beacon: latency.beacon,
    bare: latency.bare,
    ratio: Math.round((latency.beacon.p99_ms / latency.bare.p99_ms) * 100) / 100,
    ratioNote: 'p99 x',
    target: `p99 < ${TARGETS.filter_p99_ms} ms`,
    verdict: verdict(p99ok, latency.beacon),
    pass: p99ok,
  });
  rows.push({
    scenario: `filter @10k p99, ${settings.connections} conns (info: queueing)`,
    beacon: r.filter.beacon,
    bare: r.filter.bare,
    ratio: Math.round((r.filter.beacon.p99_ms / r.filter.bare.p99_ms) * 100) / 100,
    ratioNote: 'p99 x',
    target: '(same as bare)',
    verdict: r.filter.beacon.p99_ms <= r.filter.bare.p99_ms * 1.5 ? '(ok)' : '(over)',
    info: true,
  });
  return rows;
}

function renderTable(rows, { markdown = false } = {}) {
  const header = ['scenario', 'req/s', 'p50', 'p99', 'bare req/s', 'bare p99', 'ratio', 'target', 'verdict'];
  const body = rows.map((row) => [
    row.scenario,
    String(Math.round(row.beacon.rps)),
    fmtMs(row.beacon.p50_ms),
    fmtMs(row.beacon.p99_ms),
    String(Math.round(row.bare.rps)),
    fmtMs(row.bare.p99_ms),
    row.ratioNote ? `${row.ratioNote}${row.ratio.toFixed(2)}` : row.ratio.toFixed(2),
    row.target,
    row.verdict,
  ]);
  if (markdown) {
    return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...body.map((cells) => `| ${cells.join(' | ')} |`)].join(
      '\n',
    );
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function noiseTable(results, { markdown = false } = {}) {
  const rows = [];
  for (const [name, pair] of Object.entries(results)) {
    if (!pair?.beacon) continue;
    for (const side of ['beacon', 'bare']) {
      const c = pair[side].cpu;
      rows.push([
        `${name} / ${side}`,
        c.server_cores.toFixed(2),
        c.bench_cores.toFixed(2),
        c.foreign_cores.toFixed(2),
        c.machine_busy_cores.toFixed(2),
      ]);
    }
  }
  const header = ['run', 'server cores', 'wrk+nats+bench cores', 'OTHER processes cores', 'machine busy (of 2)'];
  if (markdown)
    return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function profileBeacon(stamp, nats, tmp, filterDb) {
  const dir = join(RESULTS, 'profiles', stamp);
  mkdirSync(dir, { recursive: true });
  const out = {};
  const capture = async (name, db, load) => {
    const raw = join(tmp, `prof-${name}`);
    mkdirSync(raw, { recursive: true });
    const spawned = Date.now();
    const beacon = await startRegistryApi(nats.url, db, tmp, { cpuProfDir: raw });
    const skipMs = Date.now() - spawned; // start-up, before the load: left out of the summary
    let wrk;
    try {
      wrk = await load(beacon);
    } finally {
      await stopProcess(beacon.proc);
    }
    const files = readdirSync(raw).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error(`no .cpuprofile written for ${name} (registry-api exit ${beacon.proc.exitCode})`);
    const target = join(dir, `${name}.cpuprofile`);
    renameSync(join(raw, files[0]), target);
    const summary = summarizeProfile(target, { top: 25, skipMs });
    out[name] = { file: relative(REPO, target), wrk: { rps: wrk.rps, p50_ms: wrk.p50_ms, p99_ms: wrk.p99_ms }, summary };
    log(`profiled ${name}: ${wrk.rps} req/s under the profiler -> ${relative(REPO, target)}`);
  };
  await capture('register', join(tmp, 'profile-register.db'), (beacon) =>
    runWrk({
      url: beacon.url,
      mode: 'register',
      prefix: 'prof',
      threads: settings.threads,
      connections: settings.connections,
      seconds: settings.duration_s,
    }),
  );
  await capture('filter', filterDb, (beacon) =>
    runWrk({
      url: `${beacon.url}/api/v1/services?${FILTER_QUERY}`,
      mode: 'get',
      threads: settings.threads,
      connections: settings.connections,
      seconds: settings.duration_s,
    }),
  );
  return out;
}

function markdownDetail(report, rows) {
  const md = [];
  md.push(
    `wrk ${settings.threads} thread(s), ${settings.connections} connections, ${settings.warmup_s} s warm-up + ${settings.duration_s} s measured per run; ` +
      `Beacon (registry-api, SQLite, nats-server JetStream) and the bare Fastify route run one after the other with the same settings. ` +
      `Filter: \`GET /api/v1/services?${FILTER_QUERY}\` over ${settings.records} services (${report.checks.filter_total_beacon} match).`,
  );
  md.push('');
  md.push(renderTable(rows, { markdown: true }));
  md.push('');
  md.push(
    'ratio = Beacon req/s ÷ bare req/s (for the p99 row: Beacon p99 ÷ bare p99). `*` = Beacon answered some requests with errors or non-2xx (see JSON).',
  );
  md.push('');
  md.push('### CPU during each measured run');
  md.push('');
  md.push(noiseTable(report.results, { markdown: true }));
  md.push('');
  md.push(
    '"OTHER processes" is CPU used by processes this benchmark did not start (e.g. other test runs) — above ~0.2 cores the figures are skewed.',
  );
  md.push('');
  md.push('### Checks');
  md.push('');
  md.push(
    `- loaded ${report.checks.load.records} services in ${report.checks.load.seconds} s (${report.checks.load.rps}/s, ${report.checks.load.failures} failures) with ${settings.loader_concurrency} concurrent requests`,
  );
  md.push(
    `- filter totals: Beacon ${report.checks.filter_total_beacon}, bare ${report.checks.filter_total_bare}; page sizes ${report.checks.filter_page_beacon} / ${report.checks.filter_page_bare}; response bytes ${report.results.filter.beacon.bytes_per_response} / ${report.results.filter.bare.bytes_per_response}`,
  );
  if (report.profiles) {
    md.push('');
    md.push('### CPU profiles (registry-api under the same load)');
    for (const [name, p] of Object.entries(report.profiles)) {
      md.push('');
      md.push(`#### ${name} — ${p.wrk.rps} req/s while profiled (\`${p.file}\`)`);
      md.push('');
      md.push('```');
      md.push(formatSummary(p.summary, { title: name }));
      md.push('```');
    }
  }
  return md.join('\n');
}

/** Runs the registry scenarios; returns {report, rows, text, markdown} for bench/run.mjs. */
export async function run({ stamp, profileMode = 'on-miss' }) {
  const tmp = makeTmp('beacon-bench-');
  const report = { settings, targets: TARGETS, results: {}, checks: {} };
  let nats;
  let bare;
  let beacon;
  try {
    nats = await startNats(tmp);
    bare = await startBare();
    log(
      `nats-server ${nats.url}, bare server ${bare.url}; wrk -t${settings.threads} -c${settings.connections}, ${settings.warmup_s}s warm-up + ${settings.duration_s}s per run`,
    );

    // 1. Registration: a fresh registry-api, every request a new service.
    beacon = await startRegistryApi(nats.url, join(tmp, 'register.db'), tmp);
    const idle = (server) => [nats.proc.child.pid, ...(server === bare ? [beacon.proc.child.pid] : [bare.proc.child.pid])];
    report.results.register = {
      beacon: await scenario('register beacon', beacon, idle(beacon), { mode: 'register', path: '' }),
      bare: await scenario('register bare', bare, idle(bare), { mode: 'register', path: '' }),
    };
    await stopProcess(beacon.proc);

    // 2. Filter at exactly 10,000 services: a fresh registry-api loaded through its API.
    const filterDb = join(tmp, 'filter.db');
    beacon = await startRegistryApi(nats.url, filterDb, tmp);
    log(`loading ${settings.records} services through POST /api/v1/services/register ...`);
    report.checks.load = await loadServices(beacon.url, 0, settings.records, settings.loader_concurrency);
    log(`loaded in ${report.checks.load.seconds} s (${report.checks.load.rps}/s, ${report.checks.load.failures} failures)`);
    const path = `/api/v1/services?${FILTER_QUERY}`;
    const [b, r] = [await getJson(`${beacon.url}${path}`), await getJson(`${bare.url}${path}`)];
    const count = await getJson(`${beacon.url}/api/v1/services?limit=1`);
    Object.assign(report.checks, {
      services_in_beacon: count.body.total,
      filter_total_beacon: b.body.total,
      filter_total_bare: r.body.total,
      filter_page_beacon: b.body.services?.length,
      filter_page_bare: r.body.services?.length,
    });
    if (count.body.total !== settings.records) log(`WARNING: Beacon holds ${count.body.total} services, expected ${settings.records}`);
    if (b.body.total !== r.body.total) log(`WARNING: filter totals differ: Beacon ${b.body.total}, bare ${r.body.total}`);
    log(`filter matches ${b.body.total} of ${count.body.total} services (bare: ${r.body.total})`);
    report.results.filter = {
      beacon: await scenario('filter beacon', beacon, idle(beacon), { mode: 'get', path }),
      bare: await scenario('filter bare', bare, idle(bare), { mode: 'get', path }),
    };
    // Informational: latency without queueing (few connections), same data.
    const low = { mode: 'get', path, connections: settings.low_connections, seconds: settings.low_duration_s, warmup: 1 };
    report.results.filterLow = {
      beacon: await scenario(`filter beacon c${settings.low_connections}`, beacon, idle(beacon), low),
      bare: await scenario(`filter bare c${settings.low_connections}`, bare, idle(bare), low),
    };
    await stopProcess(beacon.proc);

    const rows = buildRows(report.results);
    recordRows(report, rows);
    const missed = !report.targets_met;
    if (profileMode === 'always' || (profileMode === 'on-miss' && missed)) {
      log(`${missed ? 'a target was missed: ' : ''}profiling registry-api under the same loads (node --cpu-prof) ...`);
      report.profiles = await profileBeacon(stamp, nats, tmp, filterDb);
    }

    const text = [
      renderTable(rows),
      '',
      `CPU during the measured runs (cores; "OTHER" = processes this benchmark did not start):\n${noiseTable(report.results)}`,
      ...Object.entries(report.profiles ?? {}).map(
        ([name, p]) =>
          `\n${formatSummary(p.summary, { title: `registry-api profile, ${name} (${p.wrk.rps} req/s while profiled)`, inclusive: 12 })}`,
      ),
    ].join('\n');
    // The combined summary's rows: one line per target (and the info row).
    const summaryRows = rows.map((row) => ({
      scenario: row.scenario,
      value: row.ratioNote ? `p99 ${fmtMs(row.beacon.p99_ms)}` : `${Math.round(row.beacon.rps)} req/s`,
      baseline: row.ratioNote ? `bare p99 ${fmtMs(row.bare.p99_ms)}` : `bare ${Math.round(row.bare.rps)} req/s`,
      ratio: row.ratioNote ? `p99 x${row.ratio.toFixed(2)}` : row.ratio.toFixed(2),
      target: row.target,
      verdict: row.verdict,
      pass: row.pass,
      info: row.info,
    }));
    return { report, rows: summaryRows, text, markdown: markdownDetail(report, rows) };
  } finally {
    const stops = [];
    for (const server of [beacon, bare, nats]) if (server) stops.push(stopProcess(server.proc));
    await Promise.all(stops);
    removeTmp(tmp);
  }
}
