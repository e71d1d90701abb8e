/**
 * The WebSocket section's numbers: windows merged per server and rate, the summary rows
 * against the targets, the tables, a few sentences of reading, and the CPU profiles.
 */
import { readdirSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fmtMs, log, recordRows, REPO, textTable } from '../../lib/stack.mjs';
import { areasSideBySide, formatSummary, summarizeProfile } from '../../summarize-profile.mjs';
import { round, settings, TARGETS } from './settings.mjs';

/**
 * Moves the profile a process wrote on exit to bench/results/profiles/<stamp>/<name>.cpuprofile
 * and summarizes its measured window only: not start-up, the 1,000 connections and the
 * warm-up, nor the drain, disconnections and shutdown after it (the profile starts just
 * after the spawn).
 */
export function collectProfile(raw, dir, name, window, spawnedAt) {
  const files = readdirSync(raw).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile written for ${name}`);
  const target = join(dir, `${name}.cpuprofile`);
  renameSync(join(raw, files[0]), target);
  const summary = summarizeProfile(target, {
    top: 25,
    skipMs: window.window_started_at - spawnedAt,
    untilMs: window.window_ended_at - spawnedAt,
  });
  delete window.hist;
  log(
    `ws: profiled ${name}: ${window.delivered_per_s}/s delivered, delay p99 ${fmtMs(window.delay.p99_ms)} under the profiler -> ${relative(REPO, target)}`,
  );
  return { file: relative(REPO, target), window, summary };
}

/** p50/p90/p99/p99.9/max/mean from a 1 ms histogram ([[ms, count], ...], sorted). */
export function delayStats(entries) {
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const at = (p) => {
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    let seen = 0;
    for (const [ms, n] of entries) {
      seen += n;
      if (seen >= rank) return ms;
    }
    return entries.at(-1)[0];
  };
  return {
    samples: total,
    p50_ms: at(50),
    p90_ms: at(90),
    p99_ms: at(99),
    p999_ms: at(99.9),
    max_ms: total ? entries.at(-1)[0] : null,
    min_ms: total ? entries[0][0] : null,
    mean_ms: total ? round(entries.reduce((s, [ms, n]) => s + ms * n, 0) / total, 1) : null,
  };
}

function mergeHist(hists) {
  const hist = new Map();
  for (const h of hists) for (const [ms, n] of h) hist.set(ms, (hist.get(ms) ?? 0) + n);
  return [...hist.entries()].sort((a, b) => a[0] - b[0]);
}

const COUNTS = [
  'missing',
  'duplicates',
  'clients_missing',
  'clients_duplicated',
  'out_of_order',
  'foreign',
  'stray',
  'beyond',
  'checked_shape',
  'bad_shape',
  'closed_during',
];

export function mergeReports(reports) {
  const sum = (key) => reports.reduce((s, r) => s + (r[key] ?? 0), 0);
  const codes = {};
  for (const r of reports) for (const [code, n] of Object.entries(r.close_codes)) codes[code] = (codes[code] ?? 0) + n;
  const received = sum('received');
  const worst = reports[0].worst.map((_, i) => Math.max(...reports.map((r) => r.worst[i])));
  const published = reports[0].published.map((_, i) => Math.max(...reports.map((r) => r.published[i])));
  return {
    clients: sum('clients'),
    open: sum('open'),
    hist: mergeHist(reports.map((r) => r.hist)),
    worst,
    published,
    completeness: {
      expected_per_client: reports[0]?.expected_per_client ?? 0,
      received,
      clients_complete: sum('clients_complete'),
      ...Object.fromEntries(COUNTS.map((key) => [key, sum(key)])),
      bad_shape_example: reports.find((r) => r.bad_shape_example)?.bad_shape_example ?? null,
      close_codes: codes,
    },
    mean_bytes: received ? Math.round(reports.reduce((s, r) => s + (r.mean_bytes ?? 0) * r.received, 0) / received) : null,
    sample: reports.find((r) => r.sample)?.sample ?? null,
  };
}

/** One server at one rate, over its windows: merged delay histogram, summed counts, CPU weighted by window length. */
export function aggregate(windows) {
  const seconds = windows.reduce((s, w) => s + w.window_s, 0);
  const weighted = (get) => round(windows.reduce((s, w) => s + get(w) * w.window_s, 0) / seconds, 2);
  const labels = Object.keys(windows[0].cpu.cores);
  const k = Object.fromEntries(COUNTS.map((key) => [key, windows.reduce((s, w) => s + w.completeness[key], 0)]));
  const codes = {};
  for (const w of windows) for (const [code, n] of Object.entries(w.completeness.close_codes)) codes[code] = Math.max(codes[code] ?? 0, n);
  const gateways = windows.map((w) => w.gateway).filter(Boolean);
  const g = gateways.length
    ? Object.fromEntries(
        Object.keys(gateways[0])
          .filter((key) => key !== 'clients_at_end')
          .map((key) => [key, gateways.reduce((s, x) => s + x[key], 0)]),
      )
    : null;
  if (g) g.fanout_mean_ms = g.fanout_count > 0 ? round(g.fanout_sum_ms / g.fanout_count, 1) : null;
  const maxOf = (get) => Math.max(...windows.map(get).filter((v) => v !== null && v !== undefined));
  return {
    target: windows[0].target,
    rate: windows[0].rate,
    windows: windows.map((w) => w.label),
    clients: Math.min(...windows.map((w) => w.clients)),
    offered_per_s: windows[0].offered_per_s,
    delivered_per_s: round(windows.reduce((s, w) => s + w.delivered, 0) / seconds),
    measured_s: round(seconds, 1),
    triggers: windows.reduce((s, w) => s + w.triggers, 0),
    delay: delayStats(mergeHist(windows.map((w) => w.hist))),
    completeness: {
      ...k,
      received: windows.reduce((s, w) => s + w.completeness.received, 0),
      clients_complete_min: Math.min(...windows.map((w) => w.completeness.clients_complete)),
      all_complete: windows.every((w) => w.completeness.clients_complete === w.clients && w.clients === settings.clients),
      close_codes: codes,
      bad_shape_example: windows.find((w) => w.completeness.bad_shape_example)?.completeness.bad_shape_example ?? null,
    },
    mean_bytes: windows[0].mean_bytes,
    loader: {
      failures: windows.reduce((s, w) => s + w.loader.failures, 0),
      first_error: windows.find((w) => w.loader.first_error)?.loader.first_error ?? null,
      slip_p99_ms: maxOf((w) => w.loader.slip_ms.p99),
      rest_p50_ms: windows[0].loader.response_ms ? maxOf((w) => w.loader.response_ms.p50) : null,
      rest_p99_ms: windows[0].loader.response_ms ? maxOf((w) => w.loader.response_ms.p99) : null,
    },
    drain_ms: maxOf((w) => w.drain_ms),
    health: {
      requests: windows.reduce((s, w) => s + w.health.requests, 0),
      p50_ms: maxOf((w) => w.health.p50_ms),
      max_ms: maxOf((w) => w.health.max_ms),
      over_1s: windows.reduce((s, w) => s + w.health.over_1s, 0),
    },
    cpu: {
      cores: Object.fromEntries(labels.map((l) => [l, weighted((w) => w.cpu.cores[l])])),
      other: weighted((w) => w.cpu.other),
      other_max: maxOf((w) => w.cpu.other),
      machine_busy: weighted((w) => w.cpu.machine_busy),
    },
    gateway: g,
  };
}

export function cpuText(cpu) {
  return `cpu: ${Object.entries(cpu.cores)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ')}, other ${cpu.other.toFixed(2)}, machine ${cpu.machine_busy.toFixed(2)}/2`;
}

const delayText = (d) => `p99 ${fmtMs(d.p99_ms)} (p50 ${fmtMs(d.p50_ms)}, max ${fmtMs(d.max_ms)})`;

/** Above this, other processes on the machine (not started by the bench) skew the delay rows. */
const NOISY_OTHER_CORES = 0.2;

/** The summary rows: the three targets, then context (info rows). */
export function buildRows(report) {
  return [...targetRows(report), ...highRateRows(report), ...contextRows(report)];
}

const busy = (p) => (p.cpu.machine_busy >= 1.8 ? ` (machine ${p.cpu.machine_busy.toFixed(2)}/2)` : '');

function targetRows(report) {
  const { bare, beacon } = report.phases;
  const deliveredRatio = round(beacon.delivered_per_s / bare.delivered_per_s, 2);
  const p99Ratio = bare.delay.p99_ms > 0 ? round(beacon.delay.p99_ms / bare.delay.p99_ms, 2) : null;
  const k = beacon.completeness;
  const onceEach = k.all_complete && k.missing === 0 && k.duplicates === 0 && k.out_of_order === 0;
  const perWindow = (target) =>
    report.windows
      .filter((w) => w.target === target && !w.high)
      .map((w) => w.delay.p99_ms)
      .join('/');
  return [
    {
      scenario: `delivered msgs/s, ${settings.clients} clients, ${settings.rate} events/s`,
      value: `${beacon.delivered_per_s}/s of ${beacon.offered_per_s}${busy(beacon)}`,
      baseline: `bare ${bare.delivered_per_s}/s${busy(bare)}`,
      ratio: deliveredRatio.toFixed(2),
      target: `>= ${TARGETS.delivered_vs_bare} x bare`,
      verdict: deliveredRatio >= TARGETS.delivered_vs_bare ? 'PASS' : 'FAIL',
      pass: deliveredRatio >= TARGETS.delivered_vs_bare,
    },
    {
      scenario: `delay publish -> client, ${settings.rate} events/s (per window p99: ${perWindow('beacon')} vs ${perWindow('bare')} ms)`,
      value: delayText(beacon.delay),
      baseline: `bare ${delayText(bare.delay)}`,
      ratio: p99Ratio === null ? '-' : p99Ratio.toFixed(2),
      target: `p99 <= ${TARGETS.p99_vs_bare} x bare`,
      verdict: p99Ratio !== null && p99Ratio <= TARGETS.p99_vs_bare ? 'PASS' : 'FAIL',
      pass: p99Ratio !== null && p99Ratio <= TARGETS.p99_vs_bare,
    },
    {
      scenario: `every client got every message once, in order (Beacon, ${settings.rate}/s)`,
      value: `${k.all_complete ? 'all' : `min ${k.clients_complete_min}/${settings.clients}`} complete; missing ${k.missing}, dup ${k.duplicates}, out of order ${k.out_of_order}`,
      baseline: `bare: missing ${bare.completeness.missing}, dup ${bare.completeness.duplicates}`,
      ratio: '',
      target: `${settings.clients} x ${beacon.triggers} msgs, no dup`,
      verdict: onceEach ? 'PASS' : 'FAIL',
      pass: onceEach,
    },
  ];
}

function highRateRows(report) {
  const { bare_high: bareHigh, beacon_high: beaconHigh } = report.phases;
  if (!bareHigh || !beaconHigh) return [];
  return [
    {
      scenario: `delivered msgs/s at ${settings.high_rate} events/s (info)`,
      value: `${beaconHigh.delivered_per_s}/s of ${beaconHigh.offered_per_s}${busy(beaconHigh)}`,
      baseline: `bare ${bareHigh.delivered_per_s}/s${busy(bareHigh)}`,
      ratio: round(beaconHigh.delivered_per_s / bareHigh.delivered_per_s, 2).toFixed(2),
      target: '(info)',
      verdict: '',
      info: true,
    },
    {
      scenario: `delay at ${settings.high_rate} events/s (info)`,
      value:
        delayText(beaconHigh.delay) +
        (beaconHigh.completeness.missing ? `; ${beaconHigh.completeness.missing} not delivered within the drain` : ''),
      baseline: `bare ${delayText(bareHigh.delay)}`,
      ratio: bareHigh.delay.p99_ms > 0 ? round(beaconHigh.delay.p99_ms / bareHigh.delay.p99_ms, 2).toFixed(2) : '-',
      target: '(info)',
      verdict: '',
      info: true,
    },
  ];
}

/** The gateway's own fan-out histogram, /health while fanning out, and how busy the rest of the machine was. */
function contextRows(report) {
  const { bare, beacon, bare_high: bareHigh, beacon_high: beaconHigh } = report.phases;
  const rows = [];
  const g = beacon.gateway;
  if (g) {
    rows.push({
      scenario: `gateway beacon_gateway_fanout_latency_seconds, ${settings.rate}/s (cross-check)`,
      value: `count ${g.fanout_count}, mean ${g.fanout_mean_ms} ms, ${g.le_50ms} <= 50 ms`,
      baseline: `bench mean ${beacon.delay.mean_ms} ms`,
      ratio: '',
      target: '(info)',
      verdict:
        (g.sent === beacon.completeness.received ? '(sent = received)' : `(sent ${g.sent} vs received ${beacon.completeness.received})`) +
        (g.dropped ? ` (${g.dropped} dropped as slow)` : ''),
      info: true,
    });
  }
  for (const [b, c] of [
    [bare, beacon],
    [bareHigh, beaconHigh],
  ]) {
    if (!b || !c) continue;
    rows.push({
      scenario: `server GET /health while fanning out, ${c.rate} events/s (info)`,
      value: `p50 ${fmtMs(c.health.p50_ms)}, max ${fmtMs(c.health.max_ms)}${c.health.over_1s ? `, ${c.health.over_1s} over 1 s` : ''}`,
      baseline: `bare p50 ${fmtMs(b.health.p50_ms)}, max ${fmtMs(b.health.max_ms)}${b.health.over_1s ? `, ${b.health.over_1s} over 1 s` : ''}`,
      ratio: '',
      target: '(info)',
      verdict: '',
      info: true,
    });
  }
  const other = Math.max(bare.cpu.other_max, beacon.cpu.other_max);
  rows.push({
    scenario: `other processes' CPU during the ${settings.rate}/s windows (max per window)`,
    value: `${beacon.cpu.other_max.toFixed(2)} cores`,
    baseline: `bare windows ${bare.cpu.other_max.toFixed(2)} cores`,
    ratio: '',
    target: '(info)',
    verdict: other > NOISY_OTHER_CORES ? `(noisy: > ${NOISY_OTHER_CORES}, rerun)` : '(quiet)',
    info: true,
  });
  return rows;
}

const PHASES = [
  ['bare', 'bare ws'],
  ['beacon', 'Beacon'],
  ['bare_high', 'bare ws'],
  ['beacon_high', 'Beacon'],
];

function phaseTable(report, markdown) {
  const rows = PHASES.filter(([key]) => report.phases[key]).map(([key, label]) => {
    const p = report.phases[key];
    const k = p.completeness;
    const d = p.delay;
    return [
      label,
      `${p.rate}/s`,
      String(p.measured_s),
      String(p.offered_per_s),
      String(p.delivered_per_s),
      ...[d.p50_ms, d.p90_ms, d.p99_ms, d.p999_ms, d.max_ms].map((v) => String(v ?? '-')),
      String(d.mean_ms ?? '-'),
      k.all_complete ? 'all' : `min ${k.clients_complete_min}`,
      String(k.missing),
      String(k.duplicates),
      String(k.out_of_order),
      k.closed_during ? `${k.closed_during} ${JSON.stringify(k.close_codes)}` : '0',
      String(p.mean_bytes ?? '-'),
      String(p.loader.slip_p99_ms),
      p.loader.rest_p50_ms !== null ? `${p.loader.rest_p50_ms} / ${p.loader.rest_p99_ms}` : '',
      String(p.drain_ms),
    ];
  });
  return textTable(
    [
      'server',
      'events',
      'measured s',
      'offered msg/s',
      'delivered msg/s',
      'p50',
      'p90',
      'p99',
      'p99.9',
      'max',
      'mean',
      'clients complete',
      'missing',
      'dup',
      'out of order',
      'closed',
      'bytes/msg',
      'loader slip p99',
      'REST p50 / p99',
      'drain ms (max)',
    ],
    rows,
    { markdown, left: [0] },
  );
}

function windowTable(report, markdown) {
  const rows = report.windows.map((w) => [
    w.label,
    `${w.rate}/s`,
    String(w.window_s),
    String(w.delivered_per_s),
    ...[w.delay.p50_ms, w.delay.p99_ms, w.delay.max_ms].map((v) => String(v ?? '-')),
    String(w.completeness.missing),
    String(w.completeness.duplicates),
    `${w.health.p50_ms} / ${w.health.max_ms}`,
    w.cpu.cores[w.target === 'beacon' ? 'realtime-gateway' : 'bare-ws'].toFixed(2),
    w.cpu.cores.clients.toFixed(2),
    w.cpu.other.toFixed(2),
    w.cpu.machine_busy.toFixed(2),
  ]);
  return textTable(
    [
      'window',
      'events',
      's',
      'delivered msg/s',
      'p50',
      'p99',
      'max',
      'missing',
      'dup',
      '/health p50 / max ms',
      'server cores',
      'clients cores',
      'other cores',
      'machine',
    ],
    rows,
    { markdown, left: [0] },
  );
}

/** Per window at the main rate: the slowest events (slowest client's delay @ publish time since the server started). */
function slowestText(report) {
  return report.windows
    .filter((w) => !w.high)
    .map((w) => `  ${w.label.padEnd(9)} ${w.slowest_events.map((e) => `${e.ms} ms @ ${e.at_s.toFixed(1)} s`).join(', ')}`)
    .join('\n');
}

function cpuTable(report, markdown) {
  const labels = ['realtime-gateway', 'bare-ws', 'registry-api', 'nats-server', 'loader', 'clients', 'bench', 'other', 'machine'];
  const rows = PHASES.filter(([key]) => report.phases[key]).map(([key, label]) => {
    const p = report.phases[key];
    return [
      `${label} ${p.rate}/s`,
      ...labels
        .map((l) => (l === 'other' ? p.cpu.other : l === 'machine' ? p.cpu.machine_busy : p.cpu.cores[l]) ?? null)
        .map((v) => (v === null ? '' : v.toFixed(2))),
    ];
  });
  return textTable(['phase', ...labels], rows, { markdown });
}

/** A few sentences from the numbers. */
function reading(report) {
  const { bare, beacon, bare_high: bareHigh, beacon_high: beaconHigh } = report.phases;
  const lines = [];
  const us = (p, key) => (p.delivered_per_s > 0 ? Math.round((p.cpu.cores[key] / p.delivered_per_s) * 1e6) : null);
  lines.push(
    `- ${settings.rate}/s: the gateway used ${beacon.cpu.cores['realtime-gateway'].toFixed(2)} cores (${us(beacon, 'realtime-gateway')} µs per delivered message), the bare server ` +
      `${bare.cpu.cores['bare-ws'].toFixed(2)} (${us(bare, 'bare-ws')} µs); on Beacon's path registry-api added ${beacon.cpu.cores['registry-api'].toFixed(2)} and nats-server ${beacon.cpu.cores['nats-server'].toFixed(2)} cores; ` +
      `the client processes ${beacon.cpu.cores.clients.toFixed(2)} vs ${bare.cpu.cores.clients.toFixed(2)} cores; machine ${beacon.cpu.machine_busy.toFixed(2)} vs ${bare.cpu.machine_busy.toFixed(2)} of 2, ` +
      `of which other processes ${beacon.cpu.other.toFixed(2)} vs ${bare.cpu.other.toFixed(2)} (max per window ${beacon.cpu.other_max.toFixed(2)} / ${bare.cpu.other_max.toFixed(2)}` +
      `${Math.max(beacon.cpu.other_max, bare.cpu.other_max) > NOISY_OTHER_CORES ? ': noisy, the delay rows are skewed by other work on the machine; rerun' : ''}).`,
  );
  if (beacon.gateway) {
    const g = beacon.gateway;
    lines.push(
      `- Where Beacon's delay goes: the gateway's own publish -> send histogram (whole windows: warm-up, measured part and drain) has a mean of ${g.fanout_mean_ms} ms ` +
        `(${g.le_10ms} of ${g.fanout_count} sends within 10 ms); the clients measured a mean of ${beacon.delay.mean_ms} ms publish -> receipt (bare: ${bare.delay.mean_ms} ms). ` +
        'The rest is the socket write and the client process getting to the message (500 clients per process receive each message one after the other).',
    );
  }
  if (bareHigh && beaconHigh) {
    lines.push(
      `- ${settings.high_rate}/s (offered ${beaconHigh.offered_per_s} msgs/s): Beacon delivered ${beaconHigh.delivered_per_s}/s with p99 ${fmtMs(beaconHigh.delay.p99_ms)}, ` +
        `bare ${bareHigh.delivered_per_s}/s with p99 ${fmtMs(bareHigh.delay.p99_ms)}; machine ${beaconHigh.cpu.machine_busy.toFixed(2)} vs ${bareHigh.cpu.machine_busy.toFixed(2)} of 2; ` +
        `the clients ${beaconHigh.cpu.cores.clients.toFixed(2)} vs ${bareHigh.cpu.cores.clients.toFixed(2)} cores, the gateway ${beaconHigh.cpu.cores['realtime-gateway'].toFixed(2)} ` +
        `(${us(beaconHigh, 'realtime-gateway')} µs/msg) vs the bare server ${bareHigh.cpu.cores['bare-ws'].toFixed(2)} (${us(bareHigh, 'bare-ws')} µs/msg). ` +
        'Below the offered rate, delay grows with the backlog for as long as the load lasts: that p99 measures the window length, not a latency.' +
        (beaconHigh.gateway?.fanout_count
          ? ` The gateway's own publish -> send mean was ${beaconHigh.gateway.fanout_mean_ms} ms against the clients' ${beaconHigh.delay.mean_ms} ms publish -> receipt: ` +
            `${beaconHigh.gateway.fanout_mean_ms > beaconHigh.delay.mean_ms / 2 ? 'the backlog waited in the gateway (its input), not in the client sockets' : 'the backlog waited in the sockets to the clients'}` +
            `${beaconHigh.gateway.dropped ? `; ${beaconHigh.gateway.dropped} clients dropped as slow` : '; no client was dropped as slow (close 1013)'}.`
          : '') +
        `${beaconHigh.completeness.closed_during ? ` ${beaconHigh.completeness.closed_during} clients were closed (${JSON.stringify(beaconHigh.completeness.close_codes)}; 1013 = dropped as too slow).` : ''}`,
    );
  }
  for (const w of report.windows) {
    if (w.completeness.bad_shape > 0)
      lines.push(
        `- WARNING ${w.label}: ${w.completeness.bad_shape} messages without the expected shape, e.g. ${w.completeness.bad_shape_example}`,
      );
    if (w.loader.failures > 0) lines.push(`- WARNING ${w.label}: ${w.loader.failures} triggers failed (${w.loader.first_error})`);
    if (w.completeness.stray > 0)
      lines.push(`- NOTE ${w.label}: ${w.completeness.stray} messages arrived on the other server's connections`);
    if (!w.high && w.loader.slip_ms.p99 > 5)
      lines.push(`- NOTE ${w.label}: the loader fired late (p99 ${w.loader.slip_ms.p99} ms behind schedule): the machine was busy.`);
  }
  return lines.join('\n');
}

/** Main-thread CPU per delivered message by area, gateway beside the bare server; then the gateway's own summary. */
function profilesText(profiles) {
  const gateway = profiles['realtime-gateway'];
  const bare = profiles['bare-ws'];
  const usPerMsg = (p, ms) => (p.window.delivered_per_s > 0 ? (ms * 1000) / (p.summary.total_ms / 1000) / p.window.delivered_per_s : 0);
  const rows = areasSideBySide(gateway, bare, usPerMsg, { minimum: 0.05, digits: 2 });
  rows.push([
    'TOTAL busy (main thread)',
    usPerMsg(gateway, gateway.summary.busy_ms).toFixed(2),
    usPerMsg(bare, bare.summary.busy_ms).toFixed(2),
  ]);
  const w = (p) => `${p.window.delivered_per_s} msgs/s, p99 ${fmtMs(p.window.delay.p99_ms)}`;
  return [
    `Main-thread CPU per delivered message (µs), from the profiles (measured window only): realtime-gateway ${w(gateway)}, bare ws server ${w(bare)} while profiled`,
    textTable(['area', 'gateway µs/msg', 'bare µs/msg'], rows),
    '',
    formatSummary(gateway.summary, { title: `realtime-gateway profile (${w(gateway)})`, inclusive: 20 }),
    '',
    formatSummary(
      { ...bare.summary, top_self: bare.summary.top_self.slice(0, 12) },
      { title: `bare ws server profile (${w(bare)})`, inclusive: 0 },
    ),
  ].join('\n');
}

export function finish(report, rows) {
  recordRows(report, rows);
  const readingText = reading(report);
  const sizes = `message size: Beacon ${report.phases.beacon.mean_bytes} bytes, bare ${report.phases.bare.mean_bytes} bytes`;
  const prof = report.profiles ? profilesText(report.profiles) : null;
  const text = [
    'Delay in ms (publish -> client receipt), every delivered message triggered in the measured windows, per server and rate:',
    phaseTable(report, false),
    '',
    'Per window (in the order run):',
    windowTable(report, false),
    '',
    `Slowest events per window (slowest client's delay @ publish time, s since that server started; for context, realtime-gateway pings its clients and resyncs its catalog view every 30 s by default):`,
    slowestText(report),
    '',
    readingText,
    '',
    `${sizes}; CPU per process, measured windows (cores of 2):`,
    cpuTable(report, false),
    ...(prof ? ['', prof] : []),
  ].join('\n');
  const markdown = [
    `${settings.clients} WebSocket clients (\`ws\`, in ${settings.client_processes} separate Node processes: bench/ws-clients.mjs) connected to each server, both sets throughout; ` +
      `${settings.rate} events/s in ${settings.rounds} windows per server, alternating (ABBA…), ${settings.duration_s} s measured each (${settings.warmup_s} s warm-up before a server's first window, ${settings.settle_s} s before later ones)` +
      `${settings.high_rate ? `, then ${settings.high_rate}/s once per server (${settings.high_warmup_s} + ${settings.high_duration_s} s, info)` : ''}. ` +
      'Beacon: bench/ws-loader.mjs POSTs registrations to registry-api, which publishes `beacon.events.service.registered` (JetStream BEACON_EVENTS); realtime-gateway fans it out. ' +
      'Bare: the loader publishes an event of the same shape (the service from a real registration) on core NATS to bench/bare-ws-server.mjs, which stringifies it once and sends it to every client. ' +
      "Delay = Date.now() in the client at 'message' − the message's `timestamp` (registry-api's publish time / the loader's).",
    '',
    phaseTable(report, true),
    '',
    'Per window (in the order run):',
    '',
    windowTable(report, true),
    '',
    "Slowest events per window (slowest client's delay @ publish time, s since that server started; for context, realtime-gateway pings its clients and resyncs its catalog view every 30 s by default):",
    '',
    '```',
    slowestText(report),
    '```',
    '',
    readingText,
    '',
    `### CPU per process, measured windows (cores of 2; ${sizes})`,
    '',
    cpuTable(report, true),
    ...(prof
      ? [
          '',
          `### CPU profiles: realtime-gateway and the bare ws server at ${settings.profile_rate}/s (\`${report.profiles['realtime-gateway'].file}\`, \`${report.profiles['bare-ws'].file}\`)`,
          '',
          '```',
          prof,
          '```',
        ]
      : []),
  ].join('\n');
  return { report, rows, text, markdown };
}
