/**
 * Prober fairness (issue 13 item 4): 1,000 healthy targets (bench/probe-targets.mjs, 4
 * servers on 127.0.0.1, health_check_interval 5 s) are checked by one health-prober at its
 * defaults (PROBE_CONCURRENCY 256); after a baseline window, 300 black holes are registered
 * (bench/sections/fairness-black-holes.mjs: 300 loopback hosts that accept and never
 * answer; interval 1 s, timeout 30 s: more slot-time than the prober has). Per healthy
 * target, the gap between the starts of consecutive checks (from each result's checked_at
 * − response_time_ms), plus the open gap at the end of the window, so a target that is no
 * longer checked at all counts. Reported as ratios against the interval: the share of gaps
 * within 1.2 × the interval (jitter alone allows 1.1), and the worst gap, in the attack
 * window beside the baseline window of the same run.
 *
 * Env: BENCH_FAIR_HEALTHY=1000  BENCH_FAIR_HOLES=300  BENCH_FAIR_INTERVAL=5
 *      BENCH_FAIR_HOLE_TIMEOUT=30  BENCH_FAIR_BASELINE=20  BENCH_FAIR_ATTACK=60
 */
import { join } from 'node:path';
import { sleep } from '../lib/procs.mjs';
import {
  envNumber,
  log,
  makeTmp,
  metricSum,
  missingStack,
  natsBenchClient,
  recordRows,
  registerAll,
  removeTmp,
  scrapeMetrics,
  startHelper,
  startNats,
  startRegistryApi,
  startWorker,
  stopAll,
  textTable,
} from '../lib/stack.mjs';

export const name = 'fairness';
export const title = 'Prober fairness: 1,000 healthy targets while 300 black holes are registered';

export const settings = {
  healthy: envNumber('BENCH_FAIR_HEALTHY', 1000),
  holes: envNumber('BENCH_FAIR_HOLES', 300),
  interval_s: envNumber('BENCH_FAIR_INTERVAL', 5),
  hole_timeout_s: envNumber('BENCH_FAIR_HOLE_TIMEOUT', 30),
  baseline_s: envNumber('BENCH_FAIR_BASELINE', 20),
  attack_s: envNumber('BENCH_FAIR_ATTACK', 60),
  loader_concurrency: 64,
  /** PROBE_JITTER's default: a gap of up to 1.1 × the interval is the schedule, not lateness. */
  jitter: 0.1,
};

/** On time: a gap within 1.2 × the interval. Targets for the attack window. */
export const TARGETS = { on_time_ratio: 1.2, on_time_share: 0.99, worst_gap_ratio: 1.5 };

export function missing() {
  return missingStack(['registry-api', 'health-prober']);
}

const round = (v, d = 2) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);

export async function run({ stamp }) {
  const tmp = makeTmp('beacon-bench-fairness-');
  const report = { settings, targets: TARGETS, checks: {}, windows: {} };
  let nats;
  let api;
  let prober;
  let targets;
  let holes;
  let client;
  try {
    nats = await startNats(tmp);
    api = await startRegistryApi(nats.url, join(tmp, 'fairness.db'), tmp);
    prober = await startWorker('health-prober', nats.url, tmp, { name: 'bench-fair-prober' });
    targets = await startHelper('probe-targets', 'probe-targets.mjs', ['4', '0']);
    holes = await startHelper('black-holes', 'sections/fairness-black-holes.mjs', [String(settings.holes)]);

    /** service_id -> check start times (ms), for the healthy targets. */
    const starts = new Map();
    let healthyFailures = 0;
    client = await natsBenchClient(nats.url);
    client.on('beacon.events.probe.result', (event) => {
      const result = event?.result;
      const times = result && starts.get(result.service_id);
      if (!times) return;
      times.push(Date.parse(result.checked_at) - result.response_time_ms);
      if (!result.ok) healthyFailures += 1;
    });
    await client.flush();

    const ports = targets.ready.ports;
    const healthyBodies = Array.from({ length: settings.healthy }, (_, n) => ({
      name: `fair-ok-${stamp}-${n}`,
      host: '127.0.0.1',
      port: ports[n % ports.length],
      ttl: 300,
      health_check_url: `http://127.0.0.1:${ports[n % ports.length]}/health?svc=${n}`,
      health_check_interval: settings.interval_s,
    }));
    log(`fairness: registering ${settings.healthy} healthy targets (interval ${settings.interval_s} s) ...`);
    const healthyLoad = await registerAll(api.url, healthyBodies, settings.loader_concurrency);
    for (const service of healthyLoad.services.filter(Boolean)) starts.set(service.service_id, []);
    report.checks.healthy_registered = starts.size;
    if (healthyLoad.failures > 0) log(`fairness: WARNING ${healthyLoad.failures} failed (first: ${healthyLoad.first_error})`);

    // Warm-up: every target has had its first check (it lands anywhere within one interval).
    await sleep((settings.interval_s + 2) * 1000);
    const baselineStart = Date.now();
    await sleep(settings.baseline_s * 1000);
    const baselineEnd = Date.now();

    log(`fairness: registering ${settings.holes} black holes (interval 1 s, timeout ${settings.hole_timeout_s} s) ...`);
    const holeBodies = holes.ready.targets.map((url, n) => ({
      name: `fair-hole-${stamp}-${n}`,
      host: new URL(url).hostname,
      port: Number(new URL(url).port),
      ttl: 300,
      health_check_url: url,
      health_check_interval: 1,
      health_check_timeout: settings.hole_timeout_s,
    }));
    const holeLoad = await registerAll(api.url, holeBodies, settings.loader_concurrency);
    report.checks.holes_registered = holeLoad.services.filter(Boolean).length;
    const attackStart = Date.now();
    const failuresBefore = healthyFailures;
    // Halfway through, what the black holes hold (the evidence that the attack is on).
    await sleep((settings.attack_s * 1000) / 2);
    report.checks.mid_attack = await slotSample(prober.url, holes);
    await sleep((settings.attack_s * 1000) / 2);
    const attackEnd = Date.now();
    report.checks.end_attack = await slotSample(prober.url, holes);
    report.checks.healthy_failed_checks_during_attack = healthyFailures - failuresBefore;

    report.windows.baseline = gapStats(starts, baselineStart, baselineEnd);
    report.windows.attack = gapStats(starts, attackStart, attackEnd);
    const b = report.windows.baseline;
    const a = report.windows.attack;
    log(
      `fairness: healthy gaps / interval — baseline: ${b.on_time_share} on time, worst ${b.worst_gap_ratio}; ` +
        `with ${settings.holes} black holes: ${a.on_time_share} on time, worst ${a.worst_gap_ratio}; ` +
        `black holes hold ${report.checks.mid_attack.unproven_in_flight} slots mid-attack (${report.checks.mid_attack.waiting} waiting)`,
    );
    return finish(report);
  } finally {
    await client?.close().catch(() => undefined);
    // The black holes first: their checks then end at once instead of holding up the prober's stop.
    await stopAll([holes]);
    await stopAll([prober, targets, api, nats]);
    removeTmp(tmp);
  }
}

async function slotSample(proberUrl, holes) {
  const metrics = await scrapeMetrics(proberUrl);
  const lane = (l) => metricSum(metrics, 'beacon_probe_lane_in_flight', { lane: l });
  const stats = await holes.ask({ cmd: 'stats' }, 'stats');
  return {
    in_flight: metricSum(metrics, 'beacon_probes_in_flight'),
    fast_in_flight: lane('fast'),
    unproven_in_flight: lane('new') + lane('slow'),
    waiting: metricSum(metrics, 'beacon_probes_waiting'),
    timeouts: metricSum(metrics, 'beacon_probes_total', { outcome: 'timeout' }),
    holes_connections_held: stats.held,
  };
}

/**
 * Gaps between check starts of every target, for the checks started in [from, to], plus
 * each target's open gap at `to` (a target no longer checked shows up there).
 */
function gapStats(starts, from, to) {
  const intervalMs = settings.interval_s * 1000;
  const ratios = [];
  /** [gap / interval, seconds into the window the gap ended] of the late ones, for the report. */
  const late = [];
  for (const times of starts.values()) {
    const sorted = [...times].sort((x, y) => x - y);
    let previous = null;
    for (const time of sorted) {
      if (time > to) break;
      if (time >= from && previous !== null) {
        ratios.push((time - previous) / intervalMs);
        if ((time - previous) / intervalMs > TARGETS.on_time_ratio)
          late.push([round((time - previous) / intervalMs), round((time - from) / 1000, 1)]);
      }
      previous = time;
    }
    // Still open at the end: counted once it is longer than an interval (shorter, it may yet close on time).
    const open = (to - (previous ?? from)) / intervalMs;
    if (open > 1) ratios.push(open);
    if (open > TARGETS.on_time_ratio) late.push([round(open), round((to - from) / 1000, 1)]);
  }
  const gaps = ratios;
  const onTime = gaps.filter((r) => r <= TARGETS.on_time_ratio).length;
  return {
    gaps: gaps.length,
    on_time_share: gaps.length ? round(onTime / gaps.length, 4) : null,
    worst_gap_ratio: gaps.length ? round(Math.max(...gaps)) : null,
    late_gaps: gaps.length - onTime,
    worst_late: late.sort((x, y) => y[0] - x[0]).slice(0, 12),
  };
}

function finish(report) {
  const { baseline: b, attack: a } = report.windows;
  const onTimePass = a.on_time_share !== null && a.on_time_share >= TARGETS.on_time_share;
  const worstPass = a.worst_gap_ratio !== null && a.worst_gap_ratio <= TARGETS.worst_gap_ratio;
  const mid = report.checks.mid_attack;
  const rows = [
    {
      scenario: `healthy checks on time (gap <= ${TARGETS.on_time_ratio} x interval), ${settings.holes} black holes`,
      value: `${a.on_time_share} of ${a.gaps} gaps`,
      baseline: `${b.on_time_share} without black holes`,
      ratio: b.on_time_share ? String(round(a.on_time_share / b.on_time_share, 3)) : '',
      target: `>= ${TARGETS.on_time_share}`,
      verdict: onTimePass ? 'PASS' : 'FAIL',
      pass: onTimePass,
    },
    {
      scenario: 'worst healthy gap / interval, under attack',
      value: String(a.worst_gap_ratio),
      baseline: `${b.worst_gap_ratio} without black holes`,
      ratio: b.worst_gap_ratio ? String(round(a.worst_gap_ratio / b.worst_gap_ratio)) : '',
      target: `<= ${TARGETS.worst_gap_ratio}`,
      verdict: worstPass ? 'PASS' : 'FAIL',
      pass: worstPass,
    },
    {
      scenario: 'slots the black holes held mid-attack (new + slow lanes)',
      value: `${mid.unproven_in_flight} of ${mid.in_flight} in flight, ${mid.waiting} waiting`,
      baseline: '',
      ratio: '',
      target: '(info)',
      verdict: mid.unproven_in_flight > 0 ? '(attack on)' : '(no attack?)',
      info: true,
    },
  ];
  const detail = (markdown) =>
    [
      textTable(
        ['window', 'gaps', 'on time', 'late', 'worst gap / interval'],
        [
          ['baseline', b.gaps, b.on_time_share, b.late_gaps, b.worst_gap_ratio].map((v) => String(v ?? '-')),
          [`${settings.holes} black holes`, a.gaps, a.on_time_share, a.late_gaps, a.worst_gap_ratio].map((v) => String(v ?? '-')),
        ],
        { markdown, left: [0] },
      ),
      '',
      `Mid-attack: ${JSON.stringify(report.checks.mid_attack)}; at the end: ${JSON.stringify(report.checks.end_attack)}.`,
      `Failed healthy checks during the attack: ${report.checks.healthy_failed_checks_during_attack}.`,
    ].join('\n');
  recordRows(report, rows);
  return {
    report,
    rows,
    text: detail(false),
    markdown: [
      `${report.checks.healthy_registered} healthy targets (interval ${settings.interval_s} s) on one health-prober at its defaults (PROBE_CONCURRENCY 256, PROBE_PER_HOST_CONCURRENCY 32); ${settings.baseline_s} s baseline, then ${report.checks.holes_registered} black holes on as many loopback hosts (interval 1 s, timeout ${settings.hole_timeout_s} s) and ${settings.attack_s} s measured. Gap = time between the starts of two checks of one target, or from its last check to the window's end.`,
      '',
      detail(true),
    ].join('\n'),
  };
}
