/**
 * Uptime history benchmark.
 *
 *   write cost   1,000 services checked every 30 s, simulated day after day as fast as the
 *                store takes it, through registry-api's own code (its built SqliteStore: each
 *                tick's 1,000 results appended as one group commit, as the probe consumer's
 *                results are; every 5 minutes of simulated time the window aggregation the
 *                uptime service runs: read the window's pings, summarize, write the windows
 *                and the mark in one transaction; every simulated hour the retention trim).
 *                µs per check result, aggregation included, and the file's size at the end
 *                of each day: the pings ring (BEACON_PINGS_PER_SERVICE, 1,000 = 8.3 h at 30 s)
 *                fills on day 1, then only windows grow, so day-on-day growth must be flat.
 *   read latency a file filled directly with 90 days of windows for 1,000 services, served by
 *                a real registry-api: GET /services/{id}/uptime (30-day range) and
 *                GET /api/v1/uptime?windows=90 (every row's bar; cached between windows),
 *                sequential requests, p50/p99 against a ceiling.
 *
 * Env: BENCH_UPTIME_SERVICES=1000 BENCH_UPTIME_DAYS=3 (7 for the day-7 row: ~4 min per simulated day on 2 shared cores)
 *      BENCH_UPTIME_FILL_DAYS=90 BENCH_UPTIME_REQUESTS=200
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stopProcess } from '../lib/procs.mjs';
import {
  REPO,
  envNumber,
  fmtMs,
  log,
  makeTmp,
  missingStack,
  percentile,
  recordRows,
  removeTmp,
  startNats,
  startRegistryApi,
  textTable,
} from '../lib/stack.mjs';

export const name = 'uptime';
export const title =
  'Uptime history: write cost and store growth per day (1,000 services every 30 s), uptime route latency over 90 days of windows';

export const settings = {
  services: envNumber('BENCH_UPTIME_SERVICES', 1000),
  days: envNumber('BENCH_UPTIME_DAYS', 3),
  fill_days: envNumber('BENCH_UPTIME_FILL_DAYS', 90),
  requests: envNumber('BENCH_UPTIME_REQUESTS', 200),
  interval_s: 30,
  window_s: 300,
};

/** Ceilings (targets): a check result must cost little beside a probe, and the routes must feel instant. */
const TARGETS = {
  us_per_check: 50,
  growth_ratio_max: 1.25,
  uptime_p99_ms: 50,
  overview_p99_ms: 100,
  /** File bytes per stored check result (the pings ring) and per 5-minute window: the store stays small. */
  bytes_per_ping: 50,
  bytes_per_window: 12,
};
const RING = 1000;

export function missing() {
  return missingStack(['registry-api'], { natsClient: false });
}

const requireApi = createRequire(join(REPO, 'apps', 'registry-api', 'dist', 'main.js'));
const dist = (path) => requireApi(join(REPO, 'apps', 'registry-api', 'dist', path));

const DAY = 86_400_000;
const fileBytes = (path) => ['', '-wal'].reduce((sum, suffix) => sum + (statSync(path + suffix, { throwIfNoEntry: false })?.size ?? 0), 0);

async function registerServices(store, count, now) {
  const { draftRegistration, BUILT_IN_DEFAULTS } = dist('catalog/registration.js');
  const ids = [];
  for (let index = 0; index < count; index += 1) {
    const input = {
      name: `svc-${index}`,
      host: '10.0.0.1',
      port: 1000 + index,
      health_check_url: `http://10.0.0.1:${1000 + index}/health`,
    };
    const { record } = await store.register({ name: input.name, host: input.host, port: input.port }, (existing) =>
      draftRegistration(input, existing, now, BUILT_IN_DEFAULTS),
    );
    ids.push(record.service_id);
  }
  return ids;
}

/** Simulates `days` of checks through the store and the aggregation; returns timings and sizes per day. */
async function writeCost(tmp) {
  const { SqliteStore } = dist('store/sqlite/sqlite-store.js');
  const { summarize } = dist('uptime/uptime-math.js');
  const path = join(tmp, 'growth.db');
  const synchronous = process.env.BENCH_SQLITE_SYNCHRONOUS ?? 'full';
  const store = new SqliteStore({ path, synchronous, pingsPerService: RING });
  const windowMs = settings.window_s * 1000;
  const start = Math.floor(Date.now() / DAY) * DAY - settings.days * DAY;
  const ids = await registerServices(store, settings.services, start);
  const base = fileBytes(path);
  const perDay = [];
  let checks = 0;
  let busyMs = 0;
  let aggregateMs = 0;
  const ticksPerDay = DAY / (settings.interval_s * 1000);
  for (let day = 0; day < settings.days; day += 1) {
    const dayStarted = performance.now();
    for (let tick = 0; tick < ticksPerDay; tick += 1) {
      const at = start + day * DAY + tick * settings.interval_s * 1000;
      const started = performance.now();
      const writes = ids.map((id, index) => {
        const ok = (index + tick) % 97 !== 0;
        return store.appendHealthCheck(id, {
          checked_at: new Date(at + (index % 1000) * 25).toISOString(),
          kind: 'http',
          health: ok ? 'healthy' : 'unhealthy',
          outcome: ok ? 'healthy' : 'error',
          status_code: ok ? 200 : 503,
          response_time_ms: 2 + ((index * 7 + tick) % 40) / 4,
          load: null,
          error: ok ? null : 'HTTP 503',
        });
      });
      await Promise.all(writes);
      checks += ids.length;
      const next = at + settings.interval_s * 1000;
      if (next % windowMs === 0) {
        const aggregated = performance.now();
        const windowStart = next - windowMs;
        await store.uptime.saveWindows(summarize(await store.uptime.checksBetween(windowStart, next), windowStart), next);
        aggregateMs += performance.now() - aggregated;
      }
      if (next % 3_600_000 === 0) await store.uptime.trim(next - 90 * DAY, next - 7 * DAY, 20_000);
      busyMs += performance.now() - started;
    }
    store.handle.db.pragma('wal_checkpoint(TRUNCATE)');
    perDay.push({ day: day + 1, bytes: fileBytes(path) - base, seconds: (performance.now() - dayStarted) / 1000 });
    log(
      `uptime: simulated day ${day + 1}: ${(perDay.at(-1).bytes / 1e6).toFixed(1)} MB above the catalog, ${perDay.at(-1).seconds.toFixed(1)} s`,
    );
  }
  await store.close();
  return {
    synchronous,
    checks,
    us_per_check: (busyMs * 1000) / checks,
    aggregate_ms_per_window: aggregateMs / (settings.days * (DAY / windowMs)),
    perDay,
  };
}

/** A file with `fill_days` of windows for every service, written directly (one transaction per day). */
async function fillWindows(tmp) {
  const { SqliteStore } = dist('store/sqlite/sqlite-store.js');
  const path = join(tmp, 'read.db');
  const store = new SqliteStore({ path, synchronous: 'normal' });
  const now = Date.now();
  const ids = await registerServices(store, settings.services, now - settings.fill_days * DAY);
  const db = store.handle.db;
  db.pragma('wal_checkpoint(TRUNCATE)');
  const base = fileBytes(path);
  // Written as the store packs them (six hours of windows to a row), one block at a time.
  const { BLOCK_S, encodeBlock } = dist('store/sqlite/uptime-blocks.js');
  const put = db.prepare('INSERT INTO uptime_blocks (sid, block, w) VALUES (?, ?, ?)');
  // Each service's series number, as the store assigns it on its first check result or window.
  const addSeries = db.prepare('INSERT INTO uptime_series (service_id) VALUES (?)');
  const sids = db.transaction(() => ids.map((id) => Number(addSeries.run(id).lastInsertRowid)))();
  const windowS = settings.window_s;
  const end = Math.floor(now / 1000 / windowS) * windowS;
  const first = Math.floor((end - settings.fill_days * 86_400) / BLOCK_S) * BLOCK_S;
  const started = performance.now();
  for (let dayStart = first; dayStart < end; dayStart += 86_400) {
    db.transaction(() => {
      for (const [index, sid] of sids.entries()) {
        for (let block = dayStart; block < Math.min(dayStart + 86_400, end); block += BLOCK_S) {
          const cells = [];
          for (let start = Math.max(block, end - settings.fill_days * 86_400); start < Math.min(block + BLOCK_S, end); start += windowS) {
            const failures = (index + start / windowS) % 53 === 0 ? 1 : 0;
            cells.push({ start, checks: 10, failures, up: null, p50: 30, p95: 80, p99: 120, max: 200 });
          }
          if (cells.length > 0) put.run(sid, block, encodeBlock(block, cells));
        }
      }
    })();
  }
  db.prepare(`UPDATE meta SET value = ? WHERE key = 'uptime_aggregated_until'`).run(end * 1000);
  db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  log(
    `uptime: filled ${settings.fill_days} days of windows for ${ids.length} services in ${((performance.now() - started) / 1000).toFixed(0)} s: ${(fileBytes(path) / 1e6).toFixed(0)} MB`,
  );
  const windows = (settings.fill_days * 86_400 * settings.services) / windowS;
  return { path, ids, bytes: fileBytes(path), bytes_per_window: (fileBytes(path) - base) / windows };
}

async function timeRequests(urls) {
  const times = [];
  for (const url of urls) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    times.push(performance.now() - started);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times) };
}

async function readLatency(tmp, fill) {
  const nats = await startNats(tmp);
  let api;
  try {
    api = await startRegistryApi(nats.url, fill.path, tmp, {
      env: { BEACON_UPTIME_RETENTION: `${Math.max(31, settings.fill_days + 1)}d` },
    });
    const from = new Date(Date.now() - 30 * DAY).toISOString();
    const pick = (index) => fill.ids[(index * 7919) % fill.ids.length];
    const uptimeUrls = Array.from(
      { length: settings.requests },
      (_, index) => `${api.url}/api/v1/services/${pick(index)}/uptime?from=${from}`,
    );
    await timeRequests(uptimeUrls.slice(0, 10));
    const uptime = await timeRequests(uptimeUrls);
    const cold = await timeRequests([`${api.url}/api/v1/uptime?windows=90`]);
    const overview = await timeRequests(
      Array.from({ length: Math.max(20, settings.requests / 4) }, () => `${api.url}/api/v1/uptime?windows=90`),
    );
    const statusCold = await timeRequests([`${api.url}/api/v1/status-page`]);
    return { uptime, overview, overview_cold_ms: cold.p50, status_page_cold_ms: statusCold.p50 };
  } finally {
    if (api) await stopProcess(api.proc);
    await stopProcess(nats.proc);
  }
}

function buildRows(write, read, fill) {
  const day = (n) => write.perDay[n - 1];
  const increment = (n) => (n === 1 ? day(1).bytes : day(n).bytes - day(n - 1).bytes);
  const later = [...new Set([2, 3, settings.days])].filter((n) => n >= 2 && n <= settings.days);
  const steady = later.map(increment);
  const growthRatio = steady.length >= 2 ? Math.max(...steady) / Math.min(...steady) : 1;
  const growthPass = growthRatio <= TARGETS.growth_ratio_max;
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  // Day 1 holds the filled ring and a day of windows; a later day holds a day of windows.
  const windowsPerDay = (settings.services * DAY) / (settings.window_s * 1000);
  const steadyMean = steady.length > 0 ? steady.reduce((sum, bytes) => sum + bytes, 0) / steady.length : 0;
  const perPing = steady.length > 0 ? (increment(1) - steadyMean) / (settings.services * RING) : Number.NaN;
  const perWindowGrowth = steadyMean / windowsPerDay;
  return [
    {
      scenario: `write cost per check result (${settings.services} services / 30 s, aggregation included, synchronous=${write.synchronous})`,
      value: `${write.us_per_check.toFixed(1)} µs`,
      baseline: `${write.aggregate_ms_per_window.toFixed(1)} ms per 5-min window aggregated`,
      ratio: (write.us_per_check / TARGETS.us_per_check).toFixed(2),
      target: `< ${TARGETS.us_per_check} µs (ratio < 1)`,
      verdict: write.us_per_check < TARGETS.us_per_check ? 'PASS' : 'FAIL',
      pass: write.us_per_check < TARGETS.us_per_check,
    },
    {
      scenario: `store growth per day: day 1 (pings ring fills) / ${later.map((n) => `day ${n}`).join(' / ')}`,
      value: [1, ...later].map((n) => mb(increment(n))).join(' / '),
      baseline: `${mb(day(settings.days).bytes)} after ${settings.days} days`,
      ratio: growthRatio.toFixed(2),
      target: `later days' increments within ${TARGETS.growth_ratio_max}× of each other (linear)`,
      verdict: growthPass ? 'PASS' : 'FAIL',
      pass: growthPass,
    },
    {
      scenario: `pings: file bytes per stored check result (day 1's growth beyond a later day's: ${settings.services} rings of ${RING})`,
      value: `${perPing.toFixed(1)} B`,
      baseline: `${mb(increment(1) - steadyMean)} for ${settings.services * RING} results`,
      ratio: (perPing / TARGETS.bytes_per_ping).toFixed(2),
      target: `≤ ${TARGETS.bytes_per_ping} B`,
      verdict: perPing <= TARGETS.bytes_per_ping ? 'PASS' : 'FAIL',
      pass: perPing <= TARGETS.bytes_per_ping,
    },
    {
      scenario: `windows: file bytes per 5-minute window (${settings.fill_days} days × ${settings.services} services filled; later days' growth)`,
      value: `${fill.bytes_per_window.toFixed(1)} B; growth ${perWindowGrowth.toFixed(1)} B`,
      baseline: `${mb(fill.bytes_per_window * windowsPerDay)} a day for ${settings.services} services`,
      ratio: (Math.max(fill.bytes_per_window, perWindowGrowth) / TARGETS.bytes_per_window).toFixed(2),
      target: `≤ ${TARGETS.bytes_per_window} B`,
      verdict: Math.max(fill.bytes_per_window, perWindowGrowth) <= TARGETS.bytes_per_window ? 'PASS' : 'FAIL',
      pass: Math.max(fill.bytes_per_window, perWindowGrowth) <= TARGETS.bytes_per_window,
    },
    {
      scenario: `GET /services/{id}/uptime, 30-day range, ${settings.fill_days} days × ${settings.services} services in the file (${mb(fill.bytes)})`,
      value: `p50 ${fmtMs(read.uptime.p50)}, p99 ${fmtMs(read.uptime.p99)}`,
      baseline: '',
      ratio: (read.uptime.p99 / TARGETS.uptime_p99_ms).toFixed(2),
      target: `p99 < ${TARGETS.uptime_p99_ms} ms`,
      verdict: read.uptime.p99 < TARGETS.uptime_p99_ms ? 'PASS' : 'FAIL',
      pass: read.uptime.p99 < TARGETS.uptime_p99_ms,
    },
    {
      scenario: `GET /api/v1/uptime?windows=90 (${settings.services} bars)`,
      value: `p50 ${fmtMs(read.overview.p50)}, p99 ${fmtMs(read.overview.p99)}`,
      baseline: `first (uncached) ${fmtMs(read.overview_cold_ms)}; status page first ${fmtMs(read.status_page_cold_ms)}`,
      ratio: (read.overview.p99 / TARGETS.overview_p99_ms).toFixed(2),
      target: `p99 < ${TARGETS.overview_p99_ms} ms`,
      verdict: read.overview.p99 < TARGETS.overview_p99_ms ? 'PASS' : 'FAIL',
      pass: read.overview.p99 < TARGETS.overview_p99_ms,
    },
  ];
}

export async function run() {
  const tmp = makeTmp('beacon-bench-uptime-');
  const report = { settings, targets: TARGETS };
  try {
    report.write = await writeCost(tmp);
    const fill = await fillWindows(tmp);
    report.fill = { bytes: fill.bytes };
    report.read = await readLatency(tmp, fill);
    const rows = buildRows(report.write, report.read, fill);
    recordRows(report, rows);
    const perDay = textTable(
      ['day', 'MB above the catalog', 'simulated in s'],
      report.write.perDay.map((d) => [String(d.day), (d.bytes / 1e6).toFixed(1), d.seconds.toFixed(1)]),
    );
    const markdown = [
      `${settings.services} services checked every ${settings.interval_s} s, ${settings.days} simulated days through registry-api's SqliteStore ` +
        `(pings ring 1,000 per service, 5-minute windows, retention trims hourly); reads against a real registry-api on a file with ` +
        `${settings.fill_days} days of windows.`,
      '',
      textTable(
        ['day', 'MB above the catalog', 'simulated in s'],
        report.write.perDay.map((d) => [String(d.day), (d.bytes / 1e6).toFixed(1), d.seconds.toFixed(1)]),
        { markdown: true },
      ),
    ].join('\n');
    return { report, rows, text: perDay, markdown };
  } finally {
    removeTmp(tmp);
  }
}
