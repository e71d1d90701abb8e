/**
 * The WebSocket section's moving parts: the client processes (connect, count, disconnect),
 * one measured window on one server (trigger at a rate, measure, drain, collect), and the
 * gateway's own metrics and /health latency during it.
 */
import { cpuByProcess, sleep, waitUntil } from '../../lib/procs.mjs';
import { fmtMs, log, metricSum, parsePrometheus, scrapeMetrics } from '../../lib/stack.mjs';
import { cpuText, delayStats, mergeReports } from './report.mjs';
import { round, settings } from './settings.mjs';

export function pidsOf({ nats, api, gateway, bare, loader, clientProcs }) {
  return {
    'realtime-gateway': gateway?.proc.exited ? null : gateway?.proc.child.pid,
    'bare-ws': bare && !bare.proc.exited ? bare.proc.child.pid : null,
    'registry-api': api.proc.child.pid,
    'nats-server': nats.proc.child.pid,
    loader: loader.proc.child.pid,
    clients: clientProcs.map((p) => p.proc.child.pid),
  };
}

/** Splits `settings.clients` over the client processes and connects them as set `set`; totals. */
export async function connectClients(procs, set, url) {
  const per = procs.map((_, i) => Math.floor(settings.clients / procs.length) + (i < settings.clients % procs.length ? 1 : 0));
  const started = Date.now();
  const results = await Promise.all(
    procs.map((p, i) =>
      p.ask({ cmd: 'connect', set, url, count: per[i], concurrency: settings.connect_concurrency }, 'connected', 120_000),
    ),
  );
  const out = {
    url,
    open: results.reduce((sum, r) => sum + r.open, 0),
    failed: results.reduce((sum, r) => sum + r.failed, 0),
    first_error: results.find((r) => r.first_error)?.first_error ?? null,
    seconds: round((Date.now() - started) / 1000, 1),
  };
  log(
    `ws: ${out.open}/${settings.clients} clients connected to ${url} (${set}) in ${out.seconds} s${out.failed ? ` (${out.failed} failed: ${out.first_error})` : ''}`,
  );
  if (out.open === 0) throw new Error(`no client could connect to ${url}: ${out.first_error}`);
  return out;
}

export async function connectGateway(procs, url, gateway) {
  const out = await connectClients(procs, 'beacon', url);
  await waitUntil(
    `realtime-gateway to count ${out.open} WebSocket clients`,
    async () => metricSum(await scrapeMetrics(gateway.url), 'beacon_gateway_clients', { transport: 'ws' }) === out.open,
    { timeoutMs: 10_000, proc: gateway.proc },
  );
  return out;
}

export async function disconnectClients(procs, set) {
  await Promise.all(
    procs.filter((p) => !p.proc.exited && p.proc.child.connected).map((p) => p.ask({ cmd: 'disconnect', set }, 'disconnected', 15_000)),
  );
}

async function clientCounts(procs) {
  const counts = await Promise.all(procs.map((p) => p.ask({ cmd: 'count' }, 'count')));
  return { received: counts.reduce((sum, c) => sum + c.received, 0), at: performance.now() };
}

/**
 * Gateway metrics that matter here (cumulative); null (and a warning) if /metrics does not
 * answer within 15 s twice: they are a cross-check, not what the section measures.
 */
async function gatewayMetrics(gateway, label) {
  let m = null;
  for (let attempt = 1; attempt <= 2 && m === null; attempt++) {
    const started = performance.now();
    try {
      const response = await fetch(`${gateway.url}/metrics`, { signal: AbortSignal.timeout(15_000) });
      m = parsePrometheus(await response.text());
      const ms = performance.now() - started;
      if (ms > 1000) log(`ws ${label}: NOTE realtime-gateway's /metrics took ${Math.round(ms)} ms`);
    } catch (error) {
      log(
        `ws ${label}: WARNING realtime-gateway's /metrics did not answer (${error.message}) after ${Math.round(performance.now() - started)} ms (attempt ${attempt})`,
      );
    }
  }
  if (m === null) return null;
  const buckets = m.filter((s) => s.name === 'beacon_gateway_fanout_latency_seconds_bucket').map((s) => [s.labels.le, s.value]);
  return {
    fanout_count: metricSum(m, 'beacon_gateway_fanout_latency_seconds_count'),
    fanout_sum_s: metricSum(m, 'beacon_gateway_fanout_latency_seconds_sum'),
    buckets: Object.fromEntries(buckets),
    sent: metricSum(m, 'beacon_gateway_messages_sent_total', { transport: 'ws' }),
    dropped: metricSum(m, 'beacon_gateway_slow_clients_dropped_total', { transport: 'ws' }),
    clients: metricSum(m, 'beacon_gateway_clients', { transport: 'ws' }),
  };
}

/** The gateway's own view of a whole window (warm-up, measured part, drain): messages sent, publish -> send, drops. */
function gatewayDelta(m0, m1) {
  const le = (bound) => (m1.buckets[bound] ?? 0) - (m0.buckets[bound] ?? 0);
  return {
    sent: m1.sent - m0.sent,
    dropped: m1.dropped - m0.dropped,
    clients_at_end: m1.clients,
    fanout_count: m1.fanout_count - m0.fanout_count,
    fanout_sum_ms: round((m1.fanout_sum_s - m0.fanout_sum_s) * 1000),
    le_10ms: le('0.01'),
    le_25ms: le('0.025'),
    le_50ms: le('0.05'),
    le_100ms: le('0.1'),
  };
}

/**
 * One window on one server: the loader fires rate × (warm-up + duration) triggers; the
 * last `duration_s` seconds are measured (delivered/s; delay of the messages triggered in
 * them); then, once every client has every message (or the drain time ran out), each
 * client's counts are collected.
 */
export async function runWindow(label, ctx) {
  const { stamp, clientProcs, target, gateway, rate, warmup_s: warmupS, duration_s: durationS } = ctx;
  const count = Math.round(rate * (warmupS + durationS));
  const measureFrom = Math.round(rate * warmupS);
  const prefix = `ws-${stamp}-${label}-`;
  await Promise.all(
    clientProcs.map((p) => p.ask({ cmd: 'phase', set: target, prefix, expected: count, measure_from: measureFrom }, 'phase')),
  );
  // Scraped before the loader starts (the gateway is idle, it answers at once): the gateway's
  // counts below cover the whole window (warm-up, measured part and drain). A scrape during
  // a saturated window can wait for seconds (see the /health column).
  const m0 = target === 'beacon' ? await gatewayMetrics(gateway, label) : null;
  const measured = await measure(label, ctx, { count, prefix });
  const drainMs = await drain(clientProcs, measured.load.sent);
  const healthStats = measured.health.stop();
  const reports = await Promise.all(clientProcs.map((p) => p.ask({ cmd: 'report' }, 'report', 30_000)));
  const m1 = target === 'beacon' ? await gatewayMetrics(gateway, label) : null;
  const window = windowRecord(label, ctx, { measured, measureFrom, reports, drainMs, healthStats, m0, m1 });
  const d = window.delay;
  const k = window.completeness;
  log(
    `ws ${label.padEnd(11)} ${String(rate).padStart(3)}/s: delivered ${String(window.delivered_per_s).padStart(6)}/s (offered ${window.offered_per_s}/s); ` +
      `delay p50 ${fmtMs(d.p50_ms)} p99 ${fmtMs(d.p99_ms)} max ${fmtMs(d.max_ms)}; ${k.clients_complete}/${window.clients} clients complete, ` +
      `missing ${k.missing}, dup ${k.duplicates}${k.closed_during ? `, ${k.closed_during} closed ${JSON.stringify(k.close_codes)}` : ''}; ${cpuText(window.cpu)}`,
  );
  return window;
}

/**
 * Starts the loader, lets the warm-up pass, then takes the client counts and CPU across
 * the measured `duration_s`, with /health timed throughout (stopped by the caller).
 */
async function measure(label, ctx, { count, prefix }) {
  const { loader, clientProcs, target, gateway, rate, warmup_s: warmupS, duration_s: durationS } = ctx;
  const run =
    target === 'beacon'
      ? { cmd: 'run', mode: 'rest', url: ctx.api.url, rate, count, prefix, body: ctx.body }
      : { cmd: 'run', mode: 'nats', nats_url: ctx.nats.url, subject: settings.trigger_subject, rate, count, prefix, service: ctx.service };
  const loaderDone = loader.ask(run, 'done', (warmupS + durationS + 60) * 1000);
  const startedAt = performance.now();
  await sleep(warmupS * 1000);
  const c0 = await clientCounts(clientProcs);
  const cpu = cpuByProcess(ctx.pids());
  const windowStartedAt = Date.now();
  const health = pollHealth(target === 'beacon' ? `${gateway.url}/health` : `${ctx.bareHttpUrl}/health`);
  await sleep(Math.max(0, startedAt + (warmupS + durationS) * 1000 - performance.now()));
  const c1 = await clientCounts(clientProcs);
  const cpuEnd = cpu.end();
  const windowEndedAt = Date.now();
  const load = await loaderDone;
  if (load.error) throw new Error(`ws loader failed: ${load.error}`);
  for (const proc of [ctx.nats.proc, ctx.api.proc, target === 'beacon' ? gateway.proc : null]) {
    if (proc?.exited) throw new Error(`${proc.name} exited (${proc.exitCode}) during window ${label}:\n${proc.output.slice(-3000)}`);
  }
  if (load.failures > 0) log(`ws ${label}: WARNING ${load.failures} triggers failed (first: ${load.first_error})`);
  return { c0, c1, cpu: cpuEnd, windowStartedAt, windowEndedAt, health, load };
}

/** Waits until every open client has every message, no progress for 3 s, or `drain_s`; the ms it took. */
async function drain(clientProcs, sent) {
  const before = await Promise.all(clientProcs.map((p) => p.ask({ cmd: 'report' }, 'report', 30_000)));
  const expectedTotal = before.reduce((sum, r) => sum + r.open, 0) * sent;
  const drainStarted = Date.now();
  let last = -1;
  let lastProgress = Date.now();
  for (;;) {
    const { received } = await clientCounts(clientProcs);
    if (received >= expectedTotal) break;
    if (received !== last) {
      last = received;
      lastProgress = Date.now();
    }
    if (Date.now() - lastProgress > 3000 || Date.now() - drainStarted > settings.drain_s * 1000) break;
    await sleep(200);
  }
  await sleep(300); // late duplicates, if any
  return Date.now() - drainStarted;
}

/** A window's record for the report, from what was measured and what the clients reported. */
function windowRecord(label, ctx, { measured, measureFrom, reports, drainMs, healthStats, m0, m1 }) {
  const { target, rate, warmup_s: warmupS } = ctx;
  const { c0, c1, load } = measured;
  const merged = mergeReports(reports);
  const seconds = (c1.at - c0.at) / 1000;
  return {
    label,
    target,
    rate,
    high: Boolean(ctx.high),
    warmup_s: warmupS,
    triggers: load.sent,
    measured_triggers: load.sent - measureFrom,
    clients: merged.clients,
    clients_open_at_end: merged.open,
    gateway_clients_at_start: m0?.clients ?? null,
    offered_per_s: rate * merged.clients,
    delivered: c1.received - c0.received,
    delivered_per_s: round((c1.received - c0.received) / seconds),
    window_s: round(seconds, 2),
    window_started_at: measured.windowStartedAt,
    window_ended_at: measured.windowEndedAt,
    delay: delayStats(merged.hist),
    hist: merged.hist,
    // The measured events whose slowest client got them latest: index, publish time
    // (s since the server under test started: the gateway pings its clients and resyncs its
    // catalog view every 30 s by default), slowest delivery.
    slowest_events: merged.worst
      .map((ms, index) => ({ index, ms, at_s: round((merged.published[index] - ctx.serverStartedAt(target)) / 1000, 2) }))
      .filter((e) => e.index >= measureFrom)
      .sort((x, y) => y.ms - x.ms)
      .slice(0, 5),
    completeness: merged.completeness,
    mean_bytes: merged.mean_bytes,
    sample: merged.sample,
    drain_ms: drainMs,
    health: healthStats,
    loader: load,
    cpu: measured.cpu,
    gateway: m0 && m1 ? gatewayDelta(m0, m1) : null,
  };
}

/**
 * Times GET /health on the server under test, one request at a time every 250 ms, from
 * the window's start to the end of its drain: how long the server's event loop makes an
 * HTTP request wait while it fans out. `stop()` resolves with the count, p50, max and
 * how many took over 1 s (a request still pending is counted with its age).
 */
function pollHealth(url) {
  const times = [];
  let stopped = false;
  let pendingSince = null;
  void (async () => {
    while (!stopped) {
      const started = performance.now();
      pendingSince = started;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
        await response.arrayBuffer();
      } catch {
        /* counted by its time */
      }
      pendingSince = null;
      times.push(performance.now() - started);
      const wait = started + 250 - performance.now();
      if (!stopped && wait > 0) await sleep(wait);
    }
  })();
  return {
    stop() {
      stopped = true;
      const all = [...times];
      if (pendingSince !== null) all.push(performance.now() - pendingSince); // still waiting: its age so far
      all.sort((x, y) => x - y);
      const pick = (p) => (all.length ? round(all[Math.min(all.length - 1, Math.ceil((p / 100) * all.length) - 1)], 1) : null);
      return {
        requests: all.length,
        p50_ms: pick(50),
        max_ms: all.length ? round(all.at(-1), 1) : null,
        over_1s: all.filter((t) => t > 1000).length,
      };
    },
  };
}
