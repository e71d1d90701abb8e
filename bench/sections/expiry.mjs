/**
 * Expiry lag (issue 3 item 6): 1,000 services registered with ttl 10 as fast as the REST
 * API takes them (so their expires_at fall within about a second: the TTLs lapse
 * together), no heartbeats, one ttl-reaper. Per service: the time the bench's own NATS
 * subscriber receives `beacon.events.service.expired` minus the expires_at in the
 * registration response. Cross-check: the reaper's `beacon_expiry_lag_seconds` histogram.
 *
 * Env: BENCH_EXPIRY_SERVICES=1000  BENCH_EXPIRY_TTL=10  BENCH_EXPIRY_LOADER_CONCURRENCY=64
 */
import { join } from 'node:path';
import { cpuByProcess, sleep } from '../lib/procs.mjs';
import {
  envNumber,
  missingStack,
  log,
  metricSum,
  natsBenchClient,
  percentile,
  registerAll,
  scrapeMetrics,
  startNats,
  startRegistryApi,
  startWorker,
  stopAll,
  textTable,
  makeTmp,
  removeTmp,
  recordRows,
} from '../lib/stack.mjs';

export const name = 'expiry';
export const title = 'Expiry lag: ttl-reaper, TTLs lapsing together';

export const settings = {
  services: envNumber('BENCH_EXPIRY_SERVICES', 1000),
  ttl_s: envNumber('BENCH_EXPIRY_TTL', 10),
  loader_concurrency: envNumber('BENCH_EXPIRY_LOADER_CONCURRENCY', 64),
  /** Give up this long after the last expires_at (one default 30 s sweep fits inside). */
  grace_s: 45,
};

export const TARGETS = { lag_p99_ms: 1000 };

export function missing() {
  return missingStack(['registry-api', 'ttl-reaper']);
}

export async function run({ stamp }) {
  const tmp = makeTmp('beacon-bench-expiry-');
  const report = { settings, targets: TARGETS, checks: {} };
  let nats;
  let api;
  let reaper;
  let client;
  try {
    nats = await startNats(tmp);
    api = await startRegistryApi(nats.url, join(tmp, 'expiry.db'), tmp);
    reaper = await startWorker('ttl-reaper', nats.url, tmp, { name: 'bench-reaper' });
    client = await natsBenchClient(nats.url);

    const expiredAt = new Map(); // service_id -> ms the bench received its expired event
    let duplicates = 0;
    let foreign = 0;
    client.on('beacon.events.service.expired', (event) => {
      const now = Date.now();
      const id = event?.service?.service_id;
      if (!id) return;
      if (expiredAt.has(id)) duplicates += 1;
      else expiredAt.set(id, now);
    });
    await client.flush();

    log(
      `expiry: registering ${settings.services} services with ttl ${settings.ttl_s} (${settings.loader_concurrency} concurrent requests), no heartbeats, one ttl-reaper ...`,
    );
    const bodies = Array.from({ length: settings.services }, (_, n) => ({
      name: `expiry-${stamp}-${n}`,
      type: 'http',
      host: `10.9.${(n >> 8) & 255}.${n & 255}`,
      port: 9000,
      tags: ['bench-expiry'],
      ttl: settings.ttl_s,
    }));
    const load = await registerAll(api.url, bodies, settings.loader_concurrency);
    if (load.failures > 0) log(`expiry: WARNING ${load.failures} registrations failed (first: ${load.first_error})`);
    const registered = load.services.filter(Boolean);
    const deadlines = new Map(registered.map((s) => [s.service_id, Date.parse(s.expires_at)]));
    const times = [...deadlines.values()];
    const first = Math.min(...times);
    const last = Math.max(...times);
    report.checks.load = {
      registered: registered.length,
      failures: load.failures,
      seconds: load.seconds,
      rps: load.rps,
      first_error: load.first_error,
    };
    report.checks.expires_at_spread_ms = last - first;
    log(
      `expiry: registered ${registered.length} in ${load.seconds} s; expires_at spread ${last - first} ms; waiting for the TTLs to lapse ...`,
    );

    // CPU is measured over the burst: from just before the first deadline to the last event.
    await sleep(Math.max(0, first - 250 - Date.now()));
    const window = cpuByProcess({
      'ttl-reaper': reaper.proc.child.pid,
      'registry-api': api.proc.child.pid,
      'nats-server': nats.proc.child.pid,
    });
    const giveUp = last + settings.grace_s * 1000;
    const ours = () => [...deadlines.keys()].filter((id) => expiredAt.has(id)).length;
    while (ours() < deadlines.size && Date.now() < giveUp) await sleep(50);
    report.cpu = window.end();
    await sleep(300); // late duplicates, if any, would show up now

    const lags = [];
    for (const [id, deadline] of deadlines) if (expiredAt.has(id)) lags.push(expiredAt.get(id) - deadline);
    for (const id of expiredAt.keys()) if (!deadlines.has(id)) foreign += 1;
    const metrics = await scrapeMetrics(reaper.url);
    const hist = {
      count: metricSum(metrics, 'beacon_expiry_lag_seconds_count'),
      sum_s: Math.round(metricSum(metrics, 'beacon_expiry_lag_seconds_sum') * 1000) / 1000,
      le_1s: metricSum(metrics, 'beacon_expiry_lag_seconds_bucket', { le: '1' }),
      le_0_5s: metricSum(metrics, 'beacon_expiry_lag_seconds_bucket', { le: '0.5' }),
    };
    hist.mean_ms = hist.count > 0 ? Math.round((hist.sum_s / hist.count) * 1000) : null;
    report.reaper_metrics = {
      expiry_lag_seconds: hist,
      expirations_total: Object.fromEntries(
        metrics.filter((s) => s.name === 'beacon_reaper_expirations_total').map((s) => [s.labels.result, s.value]),
      ),
      sweeps: metricSum(metrics, 'beacon_reaper_housekeeping_total', { task: 'sweep' }),
    };
    const round = (v) => (v === null ? null : Math.round(v));
    report.result = {
      services: deadlines.size,
      expired: lags.length,
      duplicates,
      foreign_events: foreign,
      p50_ms: round(percentile(lags, 50)),
      p90_ms: round(percentile(lags, 90)),
      p99_ms: round(percentile(lags, 99)),
      max_ms: lags.length ? Math.max(...lags) : null,
      min_ms: lags.length ? Math.min(...lags) : null,
      mean_ms: lags.length ? Math.round(lags.reduce((a, b) => a + b, 0) / lags.length) : null,
      // How long the whole burst took to be reaped: first deadline to last event.
      burst_ms: lags.length ? Math.max(...expiredAt.values()) - first : null,
    };
    const r = report.result;
    log(
      `expiry: ${r.expired}/${r.services} expired (${r.duplicates} duplicate events); lag p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms; ` +
        `reaper histogram: ${hist.count} observations, mean ${hist.mean_ms} ms, ${hist.le_1s} <= 1 s`,
    );
    return finish(report);
  } finally {
    await client?.close().catch(() => undefined);
    await stopAll([reaper, api, nats]);
    removeTmp(tmp);
  }
}

function finish(report) {
  const r = report.result;
  const hist = report.reaper_metrics.expiry_lag_seconds;
  const lagPass = r.p99_ms !== null && r.p99_ms < TARGETS.lag_p99_ms && r.expired === r.services;
  const countPass = r.expired === r.services && r.duplicates === 0;
  const rows = [
    {
      scenario: `expiry lag p99, ${r.services} TTLs lapsing within ${(report.checks.expires_at_spread_ms / 1000).toFixed(1)} s`,
      value: `p99 ${r.p99_ms} ms (p50 ${r.p50_ms}, max ${r.max_ms})`,
      baseline: 'Consul >= 60 s, Eureka >= 90 s',
      ratio: '',
      target: `p99 < ${TARGETS.lag_p99_ms} ms`,
      verdict: lagPass ? 'PASS' : 'FAIL',
      pass: lagPass,
    },
    {
      scenario: 'expired events received (once each)',
      value: `${r.expired} / ${r.services}${r.duplicates ? `, ${r.duplicates} dup` : ''}`,
      baseline: '',
      ratio: '',
      target: `= ${r.services}, no duplicates`,
      verdict: countPass ? 'PASS' : 'FAIL',
      pass: countPass,
    },
    {
      scenario: 'reaper beacon_expiry_lag_seconds (cross-check)',
      value: `count ${hist.count}, mean ${hist.mean_ms} ms, ${hist.le_1s} <= 1 s`,
      baseline: `bench mean ${r.mean_ms} ms`,
      ratio: '',
      target: '(info)',
      verdict: hist.count === r.expired ? '(ok)' : '(differs)',
      info: true,
    },
  ];
  const cpu = report.cpu;
  const cpuLine = `CPU over the burst (${cpu.seconds} s, cores): ${Object.entries(cpu.cores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ')}, other ${cpu.other.toFixed(2)}, machine ${cpu.machine_busy.toFixed(2)} of 2`;
  const detail = (markdown) =>
    [
      textTable(
        [
          'services',
          'expired',
          'dup',
          'p50',
          'p90',
          'p99',
          'max',
          'min',
          'mean',
          'burst reaped in',
          'reaper hist count',
          'reaper hist mean',
        ],
        [
          [
            r.services,
            r.expired,
            r.duplicates,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.max_ms,
            r.min_ms,
            r.mean_ms,
            r.burst_ms,
            hist.count,
            hist.mean_ms,
          ].map((v) => String(v ?? '-')),
        ],
        { markdown, left: [] },
      ),
      '',
      `(lags in ms = bench receives beacon.events.service.expired − expires_at; "burst reaped in" = first expires_at to last event)`,
      '',
      markdown ? `${cpuLine}.` : cpuLine,
    ].join('\n');
  recordRows(report, rows);
  return {
    report,
    rows,
    text: detail(false),
    markdown: [
      `Registered ${r.services} services with ttl ${settings.ttl_s} through the REST API in ${report.checks.load.seconds} s (${report.checks.load.rps}/s, ${settings.loader_concurrency} concurrent), so their expires_at span ${report.checks.expires_at_spread_ms} ms; no heartbeats; one ttl-reaper (REAPER_CONCURRENCY default 64, sweep every 30 s).`,
      '',
      detail(true),
      '',
      `Reaper expire requests by result: ${JSON.stringify(report.reaper_metrics.expirations_total)}.`,
    ].join('\n'),
  };
}
