/**
 * Durability benchmark: what BEACON_SQLITE_SYNCHRONOUS=full (the default: an fsync of the
 * WAL per group commit, so an acknowledged write survives a power cut) costs against
 * `normal` (no fsync at commit: survives a crash of the process, not a power cut). Same run,
 * same wrk settings, one fresh registry-api on a fresh SQLite file in the temp dir per run,
 * in the order normal, full, full, normal: a load that rises or falls on a shared machine
 * weighs on both settings alike, and each figure is the mean of its two runs.
 *
 *   register, 32 conns   POST /api/v1/services/register, a new record per request; many
 *                        requests share one commit (group commit), so one fsync covers many
 *   register, 1 conn     one request in flight: every registration is its own commit and,
 *                        under full, waits for its own fsync
 *   fdatasync            the temp dir's disk, N times each: 4 KiB overwritten then fdatasync
 *                        (a WAL reused after a checkpoint), and 4 KiB appended then fdatasync
 *                        (a growing WAL: the new size goes through the filesystem's journal too)
 *
 * Every row is information, not a target: the cost depends on the disk, not on Beacon.
 *
 * Env: BENCH_DURABILITY_DURATION=6  BENCH_DURABILITY_WARMUP=2  BENCH_THREADS=1  BENCH_CONNECTIONS=32  BENCH_FSYNC_SAMPLES=200
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cpuWindow, freePort, httpOk, startProcess, stopProcess, waitUntil } from '../lib/procs.mjs';
import {
  appEntry,
  envNumber,
  fmtMs,
  log,
  makeTmp,
  missingStack,
  percentile,
  recordRows,
  removeTmp,
  startNats,
  textTable,
} from '../lib/stack.mjs';
import { findWrk, runWrk } from '../lib/wrk.mjs';

export const name = 'durability';
export const title = 'Durability: registrations/s under BEACON_SQLITE_SYNCHRONOUS=full vs normal, and the fsync latency of the disk';

export const settings = {
  warmup_s: envNumber('BENCH_DURABILITY_WARMUP', 2),
  duration_s: envNumber('BENCH_DURABILITY_DURATION', 6),
  threads: envNumber('BENCH_THREADS', 1),
  connections: envNumber('BENCH_CONNECTIONS', 32),
  fsync_samples: envNumber('BENCH_FSYNC_SAMPLES', 200),
};

/** Each setting once early and once late in the section (ABBA). */
const ORDER = ['normal', 'full', 'full', 'normal'];
const LOADS = () => [
  ['high', settings.connections],
  ['single', 1],
];
const conns = (connections) => `${connections} conn${connections === 1 ? '' : 's'}`;

export function missing() {
  const out = missingStack(['registry-api'], { natsClient: false });
  if (!findWrk()) out.push('wrk (Debian/Ubuntu: sudo apt-get install wrk)');
  return out;
}

/** registry-api with the given synchronous setting on a fresh SQLite file (bench/lib/stack.mjs's start takes no variables). */
async function startRegistryApi(natsUrl, dbPath, cwd, synchronous) {
  const port = await freePort();
  const proc = startProcess(`registry-api (${synchronous})`, process.execPath, [appEntry('registry-api')], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      NATS_URL: natsUrl,
      BEACON_PORT: String(port),
      BEACON_HOST: '127.0.0.1',
      BEACON_SQLITE_PATH: dbPath,
      BEACON_SQLITE_SYNCHRONOUS: synchronous,
      BEACON_REGISTRATIONS_PER_SECOND: '0',
      BEACON_MAX_SERVICES: '0',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`registry-api (${synchronous}) /health`, () => httpOk(`${url}/health`), { proc, timeoutMs: 30_000 });
  return { proc, url };
}

/** Warm-up, then the measured wrk run, on a fresh registry-api and SQLite file. */
async function registerRun(nats, tmp, synchronous, connections, index) {
  const label = `${synchronous}-c${connections}-${index}`;
  const beacon = await startRegistryApi(nats.url, join(tmp, `${label}.db`), tmp, synchronous);
  try {
    const common = { url: beacon.url, mode: 'register', threads: Math.min(settings.threads, connections), connections };
    if (settings.warmup_s > 0) await runWrk({ ...common, seconds: settings.warmup_s, prefix: `warm-${label}` });
    const window = cpuWindow(beacon.proc.child.pid, [nats.proc.child.pid]);
    const result = await runWrk({ ...common, seconds: settings.duration_s, prefix: `dur-${label}` });
    result.cpu = window.end();
    const noise = result.cpu.foreign_cores >= 0.25 ? `  [other load on the machine: ${result.cpu.foreign_cores} cores]` : '';
    log(
      `register ${label.padEnd(14)} ${String(result.rps).padStart(8)} req/s  p50 ${fmtMs(result.p50_ms)}  p99 ${fmtMs(result.p99_ms)}  ` +
        `server ${result.cpu.server_cores} cores${result.error_count ? `  ERRORS ${JSON.stringify(result.errors)}` : ''}${noise}`,
    );
    return result;
  } finally {
    await stopProcess(beacon.proc);
  }
}

/**
 * `samples` times: write 4 KiB to a file in `dir`, then fdatasync it (as SQLite syncs its
 * WAL), over the same block or at the end of the growing file.
 */
function fsyncLatency(dir, samples, kind) {
  const block = Buffer.alloc(4096, 0x5a);
  const fd = openSync(join(dir, `fsync-${kind}`), 'w');
  const times = [];
  try {
    writeSync(fd, block, 0, block.length, 0);
    fdatasyncSync(fd);
    for (let i = 1; i <= samples; i += 1) {
      block[0] = i & 0xff;
      const started = performance.now();
      writeSync(fd, block, 0, block.length, kind === 'append' ? i * block.length : 0);
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
  }
  return { samples, p50_ms: percentile(times, 50), p99_ms: percentile(times, 99), max_ms: Math.max(...times) };
}

/** A setting's runs in one figure: mean req/s, p50 and p99 (the runs themselves stay in the JSON). */
function meanOf(runs) {
  const mean = (field) => runs.reduce((sum, r) => sum + r[field], 0) / runs.length;
  return {
    rps: Math.round(mean('rps') * 10) / 10,
    p50_ms: mean('p50_ms'),
    p99_ms: mean('p99_ms'),
    error_count: runs.reduce((sum, r) => sum + r.error_count, 0),
  };
}

const ratio = (full, normal) => Math.round((full.rps / normal.rps) * 100) / 100;

function means(results, key) {
  return { normal: meanOf(results[key].normal), full: meanOf(results[key].full) };
}

function buildRows(results, fsync) {
  const rows = [];
  for (const [key, connections] of LOADS()) {
    const { normal, full } = means(results, key);
    const errors = normal.error_count + full.error_count > 0 ? '*' : '';
    rows.push({
      scenario: `register, ${conns(connections)}: full vs normal`,
      value: `full ${Math.round(full.rps)} req/s (p50 ${fmtMs(full.p50_ms)})`,
      baseline: `normal ${Math.round(normal.rps)} req/s (p50 ${fmtMs(normal.p50_ms)})`,
      ratio: ratio(full, normal).toFixed(2),
      target: '(info: cost of full)',
      verdict: `info${errors}`,
      info: true,
    });
  }
  for (const [kind, probe] of Object.entries(fsync)) {
    rows.push({
      scenario: `fdatasync after a 4 KiB ${kind}, ${probe.samples} times`,
      value: `p50 ${fmtMs(probe.p50_ms)}`,
      baseline: `p99 ${fmtMs(probe.p99_ms)}`,
      ratio: '',
      target: '(info: the disk)',
      verdict: 'info',
      info: true,
    });
  }
  return rows;
}

function detailTable(results, { markdown = false } = {}) {
  const body = [];
  for (const [key, connections] of LOADS()) {
    const seen = { normal: 0, full: 0 };
    for (const [index, synchronous] of ORDER.entries()) {
      const r = results[key][synchronous][seen[synchronous]++];
      body.push([
        `register, ${conns(connections)}`,
        `${index + 1}. ${synchronous}`,
        String(Math.round(r.rps)),
        fmtMs(r.p50_ms),
        fmtMs(r.p99_ms),
        String(r.error_count),
        r.cpu.server_cores.toFixed(2),
        r.cpu.foreign_cores.toFixed(2),
      ]);
    }
  }
  const header = ['scenario', 'run', 'req/s', 'p50', 'p99', 'errors', 'server cores', 'OTHER processes cores'];
  return textTable(header, body, { markdown, left: [0, 1] });
}

function explanation(report) {
  const high = means(report.results, 'high');
  const single = means(report.results, 'single');
  const { overwrite, append } = report.fsync;
  return (
    `full ÷ normal (mean of two runs each): ${ratio(high.full, high.normal).toFixed(2)} at ${conns(settings.connections)} ` +
    `(group commit: one fsync covers every registration of an event-loop turn), ${ratio(single.full, single.normal).toFixed(2)} at 1 conn ` +
    `(one fsync per registration). fdatasync on this disk (${report.tmp}): after a 4 KiB overwrite p50 ${fmtMs(overwrite.p50_ms)}, ` +
    `p99 ${fmtMs(overwrite.p99_ms)}, max ${fmtMs(overwrite.max_ms)}; after a 4 KiB append p50 ${fmtMs(append.p50_ms)}, ` +
    `p99 ${fmtMs(append.p99_ms)}, max ${fmtMs(append.max_ms)}.`
  );
}

/** Runs the durability scenarios; returns {report, rows, text, markdown} for bench/run.mjs. */
export async function run() {
  const tmp = makeTmp('beacon-bench-durability-');
  const report = { settings, order: ORDER, results: {}, tmp };
  let nats;
  try {
    nats = await startNats(tmp);
    log(
      `nats-server ${nats.url}; SQLite files in ${tmp}; wrk -c${settings.connections} and -c1, ` +
        `${settings.warmup_s}s warm-up + ${settings.duration_s}s per run, order ${ORDER.join(', ')}`,
    );
    report.fsync = {};
    for (const kind of ['overwrite', 'append']) {
      const probe = fsyncLatency(tmp, settings.fsync_samples, kind);
      report.fsync[kind] = probe;
      log(
        `fdatasync after a 4 KiB ${kind} x${probe.samples}: p50 ${fmtMs(probe.p50_ms)}  p99 ${fmtMs(probe.p99_ms)}  max ${fmtMs(probe.max_ms)}`,
      );
    }
    for (const [key, connections] of LOADS()) {
      report.results[key] = { normal: [], full: [] };
      for (const [index, synchronous] of ORDER.entries()) {
        report.results[key][synchronous].push(await registerRun(nats, tmp, synchronous, connections, index));
      }
    }

    const rows = buildRows(report.results, report.fsync);
    recordRows(report, rows);
    const text = [detailTable(report.results), '', explanation(report)].join('\n');
    const markdown = [
      `wrk ${settings.threads} thread(s), ${settings.warmup_s} s warm-up + ${settings.duration_s} s measured per run, each run on a fresh ` +
        `registry-api and SQLite file (nats-server JetStream), in the order ${ORDER.join(', ')} per load. ` +
        "Every row is information: the cost of `full` is the disk's fsync, not Beacon's.",
      '',
      detailTable(report.results, { markdown: true }),
      '',
      explanation(report),
    ].join('\n');
    return { report, rows, text, markdown };
  } finally {
    if (nats) await stopProcess(nats.proc);
    removeTmp(tmp);
  }
}
