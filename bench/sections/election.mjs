/**
 * Failover of node-role-elector's NATS lease (issue 6 item 4).
 *
 * 1. failover: three electors (lease BENCH_ELECTION_TTL, default 10 s, as deployed). Per
 *    trial: wait until one is server and the others follow it, wait one refresh period and
 *    a random part of the next (so kills land at every phase of the lease), SIGKILL the server and
 *    time it until the bench's own NATS subscriber receives another node's
 *    `beacon.events.node.role_changed` with role server. The killed node is started again
 *    (it must come back as agent) before the next trial. Target: max < lease TTL + 2 s.
 *    The same events are checked for fencing: every new server's token is higher, and no
 *    two tenures overlap.
 * 2. stability: a short lease (3 s: refresh every 1 s, step-down 2.4 s after the last
 *    refresh) for BENCH_ELECTION_LOAD_SECONDS under load: one busy-loop process per core
 *    and a NATS publisher flooding a subject with a subscriber. Target: zero role changes
 *    while the server is alive (a false failover); lease refreshes that failed and the
 *    electors' worst event-loop lag are reported beside it.
 *
 * Env: BENCH_ELECTION_TRIALS=10  BENCH_ELECTION_TTL=10  BENCH_ELECTION_LOAD_TTL=3
 *      BENCH_ELECTION_LOAD_SECONDS=30  BENCH_ELECTION_BUSY_LOOPS=<cores>  BENCH_ELECTION_FLOOD=1
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { cpuByProcess, freePort, httpOk, sleep, startProcess, stopProcess, waitUntil } from '../lib/procs.mjs';
import {
  envNumber,
  REPO,
  appEntry,
  missingStack,
  log,
  makeTmp,
  metricSum,
  natsBenchClient,
  percentile,
  removeTmp,
  scrapeMetrics,
  startNats,
  stopAll,
  textTable,
  recordRows,
} from '../lib/stack.mjs';

export const name = 'election';
export const title = 'Failover: node-role-elector, NATS KV lease';

export const settings = {
  electors: 3,
  trials: envNumber('BENCH_ELECTION_TRIALS', 10),
  ttl_s: envNumber('BENCH_ELECTION_TTL', 10),
  load_ttl_s: envNumber('BENCH_ELECTION_LOAD_TTL', 3),
  load_seconds: envNumber('BENCH_ELECTION_LOAD_SECONDS', 30),
  busy_loops: envNumber('BENCH_ELECTION_BUSY_LOOPS', cpus().length),
  flood_publishers: envNumber('BENCH_ELECTION_FLOOD', 1),
};

export const TARGETS = { failover_over_ttl_ms: 2000, false_failovers: 0 };

const ROLE_SUBJECT = 'beacon.events.node.role_changed';

export function missing() {
  return missingStack(['node-role-elector']);
}

// --- electors ---

async function startElector(nodeId, natsUrl, ttlS, cwd) {
  const port = await freePort();
  const proc = startProcess(nodeId, process.execPath, [appEntry('node-role-elector')], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      NATS_URL: natsUrl,
      NODE_ID: nodeId,
      ELECTOR_PORT: String(port),
      ELECTOR_HOST: '127.0.0.1',
      ELECTION_LEASE_TTL: String(ttlS),
      SERVER_ADVERTISE_HOST: '127.0.0.1',
      SERVER_ADVERTISE_PORT: String(9000 + Number(nodeId.replace(/\D/g, ''))),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`${nodeId} /ready`, () => httpOk(`${url}/ready`), { proc, timeoutMs: 30_000 });
  return { proc, url, nodeId, name: nodeId };
}

async function discovery(elector) {
  const response = await fetch(`${elector.url}/discovery`, { signal: AbortSignal.timeout(2000) });
  return response.json();
}

/** One server, every other elector following it with the same token; returns the server. */
async function settled(electors, timeoutMs = 30_000) {
  let found;
  await waitUntil(
    'one server and its agents',
    async () => {
      const views = await Promise.all(electors.map(discovery));
      const servers = views.filter((view) => view.mode === 'server');
      if (servers.length !== 1) return false;
      const [leader] = servers;
      if (!views.every((view) => view.server?.node_id === leader.node_id && view.fencing_token === leader.fencing_token)) return false;
      found = { server: electors.find((e) => e.nodeId === leader.node_id), token: leader.fencing_token };
      return true;
    },
    { timeoutMs },
  );
  return found;
}

/** Server tenures from role events (start = event timestamp; end = the node's next event or its kill). */
function fencingViolations(events, kills) {
  const tenures = [];
  const open = new Map();
  for (const { event } of events) {
    const at = Date.parse(event.timestamp);
    const current = open.get(event.node.node_id);
    if (current) {
      current.end = at;
      open.delete(event.node.node_id);
    }
    if (event.node.role === 'server') {
      const tenure = { node: event.node.node_id, token: event.node.fencing_token, start: at, end: null };
      tenures.push(tenure);
      open.set(event.node.node_id, tenure);
    }
  }
  for (const tenure of tenures) {
    const cut = kills.filter((k) => k.node === tenure.node && k.at >= tenure.start).map((k) => k.at);
    if (cut.length) tenure.end = Math.min(tenure.end ?? Infinity, ...cut);
  }
  const problems = [];
  let highest = -Infinity;
  for (const tenure of tenures) {
    if (!(tenure.token > highest)) problems.push(`${tenure.node} token ${tenure.token} after ${highest}`);
    highest = Math.max(highest, tenure.token ?? -Infinity);
  }
  tenures.forEach((a, i) =>
    tenures.slice(i + 1).forEach((b) => {
      if (a.start < (b.end ?? Infinity) && b.start < (a.end ?? Infinity))
        problems.push(`${a.node} (token ${a.token}) overlaps ${b.node} (token ${b.token})`);
    }),
  );
  return { tenures: tenures.length, problems };
}

// --- phase 1: failover ---

async function failover(tmp) {
  const nats = await startNats(tmp);
  const client = await natsBenchClient(nats.url);
  const events = [];
  client.on(ROLE_SUBJECT, (event) => events.push({ event, at: Date.now() }));
  await client.flush();
  const ids = Array.from({ length: settings.electors }, (_, n) => `bench-e${n + 1}`);
  let electors = [];
  const trials = [];
  const kills = [];
  try {
    electors = await Promise.all(ids.map((id) => startElector(id, nats.url, settings.ttl_s, tmp)));
    const refreshMs = (settings.ttl_s * 1000) / 3;
    for (let trial = 1; trial <= settings.trials; trial += 1) {
      const { server, token } = await settled(electors);
      // At least one refresh, then a random point of the next refresh period.
      await sleep(refreshMs * (1 + Math.random()));
      const seen = events.length;
      server.proc.child.kill('SIGKILL');
      const killedAt = Date.now();
      kills.push({ node: server.nodeId, at: killedAt });
      await server.proc.exit;
      let takeover;
      await waitUntil(
        `trial ${trial}: a new server`,
        () => (takeover = events.slice(seen).find(({ event }) => event.node.role === 'server')) !== undefined,
        { timeoutMs: settings.ttl_s * 1000 + 15_000 },
      );
      const ms = takeover.at - killedAt;
      trials.push({
        trial,
        killed: server.nodeId,
        new_server: takeover.event.node.node_id,
        ms,
        old_token: token,
        new_token: takeover.event.node.fencing_token,
      });
      log(
        `election: trial ${trial}/${settings.trials}: killed ${server.nodeId} (token ${token}) -> ${takeover.event.node.node_id} server after ${ms} ms (token ${takeover.event.node.fencing_token})`,
      );
      // The killed node returns; it must come back as an agent of the new server.
      const restarted = await startElector(server.nodeId, nats.url, settings.ttl_s, tmp);
      electors = electors.map((e) => (e.nodeId === server.nodeId ? restarted : e));
      const after = await settled(electors);
      if (after.server.nodeId !== takeover.event.node.node_id) trials.at(-1).returned_as = 'server (unexpected)';
    }
    await sleep(300);
    return { trials, fencing: fencingViolations(events, kills) };
  } finally {
    await client.close().catch(() => undefined);
    await stopAll([...electors, nats]);
  }
}

// --- phase 2: a short lease under load ---

const BUSY_LOOP = 'for (;;) {}';
const FLOOD = `
const nats = require(process.argv[1]);
(async () => {
  const nc = await nats.connect({ servers: process.argv[2], name: 'bench-flood' });
  let received = 0;
  nc.subscribe('bench.election.flood', { callback: () => { received += 1; } });
  const payload = new Uint8Array(256);
  let sent = 0;
  const started = Date.now();
  setInterval(() => process.stdout.write(JSON.stringify({ sent, received, seconds: (Date.now() - started) / 1000 }) + '\\n'), 1000);
  for (;;) {
    for (let i = 0; i < 500; i += 1) nc.publish('bench.election.flood', payload);
    sent += 500;
    await nc.flush();
  }
})();
`;

async function underLoad(tmp) {
  const nats = await startNats(tmp);
  const client = await natsBenchClient(nats.url);
  const events = [];
  client.on(ROLE_SUBJECT, (event) => events.push({ event, at: Date.now() }));
  await client.flush();
  const natsModule = createRequire(join(REPO, 'libs', 'testing', 'package.json')).resolve('nats');
  const load = [];
  let electors = [];
  try {
    electors = await Promise.all(['bench-l1', 'bench-l2', 'bench-l3'].map((id) => startElector(id, nats.url, settings.load_ttl_s, tmp)));
    const { server, token } = await settled(electors);
    const before = Object.fromEntries(await Promise.all(electors.map(async (e) => [e.nodeId, await scrapeMetrics(e.url)])));
    const seen = events.length;
    for (let n = 0; n < settings.busy_loops; n += 1) load.push(startProcess(`busy-${n}`, process.execPath, ['-e', BUSY_LOOP]));
    for (let n = 0; n < settings.flood_publishers; n += 1)
      load.push(startProcess(`flood-${n}`, process.execPath, ['-e', FLOOD, natsModule, nats.url]));
    log(
      `election: lease ${settings.load_ttl_s} s, ${server.nodeId} server (token ${token}); ${settings.busy_loops} busy loop(s) + ${settings.flood_publishers} NATS flood publisher(s) for ${settings.load_seconds} s ...`,
    );
    const window = cpuByProcess({
      electors: electors.map((e) => e.proc.child.pid),
      'nats-server': nats.proc.child.pid,
      'busy loops': load.filter((p) => p.name.startsWith('busy')).map((p) => p.child.pid),
      flood: load.filter((p) => p.name.startsWith('flood')).map((p) => p.child.pid),
    });
    await sleep(settings.load_seconds * 1000);
    const cpu = window.end();
    const floodStats = load
      .filter((p) => p.name.startsWith('flood'))
      .map((p) => {
        const lines = p.output
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{'));
        return lines.length ? JSON.parse(lines.at(-1)) : null;
      })
      .filter(Boolean);
    await Promise.all(load.map((p) => stopProcess(p, 2000)));
    const changes = events
      .slice(seen)
      .map(({ event }) => `${event.node.node_id} -> ${event.node.role} (token ${event.node.fencing_token})`);
    const still = await settled(electors, 5000).catch(() => null);
    const per = {};
    for (const e of electors) {
      const after = await scrapeMetrics(e.url);
      const delta = (metric, labels) => metricSum(after, metric, labels) - metricSum(before[e.nodeId], metric, labels);
      per[e.nodeId] = {
        refreshes_ok: delta('beacon_elector_lease_refreshes_total', { result: 'ok' }),
        refreshes_failed: delta('beacon_elector_lease_refreshes_total', { result: 'failed' }),
        refreshes_lost: delta('beacon_elector_lease_refreshes_total', { result: 'lost' }),
        attempts_failed: delta('beacon_elector_lease_attempts_total', { result: 'failed' }),
        event_loop_lag_max_ms: Math.round(metricSum(after, 'beacon_nodejs_eventloop_lag_max_seconds') * 1000),
      };
    }
    return {
      server: server.nodeId,
      token,
      role_changes: changes,
      same_server_after: still?.server.nodeId === server.nodeId && still?.token === token,
      per_elector: per,
      flood: floodStats.reduce((sum, s) => ({ sent: sum.sent + s.sent, seconds: Math.max(sum.seconds, s.seconds) }), {
        sent: 0,
        seconds: 0,
      }),
      cpu,
    };
  } finally {
    await Promise.all(load.map((p) => stopProcess(p, 2000)));
    await client.close().catch(() => undefined);
    await stopAll([...electors, nats]);
  }
}

export async function run() {
  const report = { settings, targets: TARGETS };
  {
    const tmp = makeTmp('beacon-bench-election-');
    try {
      log(`election: failover, ${settings.electors} electors, lease ${settings.ttl_s} s, ${settings.trials} SIGKILL trials ...`);
      report.failover = await failover(tmp);
    } finally {
      removeTmp(tmp);
    }
  }
  {
    const tmp = makeTmp('beacon-bench-election-load-');
    try {
      report.load = await underLoad(tmp);
    } finally {
      removeTmp(tmp);
    }
  }
  return finish(report);
}

function finish(report) {
  const times = report.failover.trials.map((t) => t.ms);
  const ttlMs = settings.ttl_s * 1000;
  const p50 = percentile(times, 50);
  const max = Math.max(...times);
  const min = Math.min(...times);
  const load = report.load;
  const refreshed = Object.values(load.per_elector).reduce((sum, e) => sum + e.refreshes_ok, 0);
  const refreshFailed = Object.values(load.per_elector).reduce((sum, e) => sum + e.refreshes_failed + e.refreshes_lost, 0);
  const lag = Math.max(...Object.values(load.per_elector).map((e) => e.event_loop_lag_max_ms));
  // How late a refresh may be before the server steps down (the elector's default margin: 20 % of the lease, 250–2000 ms).
  const loadTtlMs = settings.load_ttl_s * 1000;
  const slackMs = Math.round(loadTtlMs - Math.min(2000, Math.max(250, loadTtlMs * 0.2)) - loadTtlMs / 3);
  const failoverPass = times.length === settings.trials && max < ttlMs + TARGETS.failover_over_ttl_ms;
  const fencingPass = report.failover.fencing.problems.length === 0 && report.failover.trials.every((t) => t.new_token > t.old_token);
  const stablePass = load.role_changes.length === TARGETS.false_failovers && load.same_server_after;
  report.result = {
    p50_ms: p50,
    max_ms: max,
    min_ms: min,
    false_failovers: load.role_changes.length,
    refreshes_ok: refreshed,
    refreshes_failed: refreshFailed,
    event_loop_lag_max_ms: lag,
  };
  const rows = [
    {
      scenario: `failover after SIGKILL, ${settings.electors} electors, lease ${settings.ttl_s} s (${times.length} trials)`,
      value: `p50 ${p50} ms, max ${max} ms (min ${min})`,
      baseline: `lease ${ttlMs} ms`,
      ratio: `max ${(max / ttlMs).toFixed(2)} × lease`,
      target: `max < ${ttlMs + TARGETS.failover_over_ttl_ms} ms`,
      verdict: failoverPass ? 'PASS' : 'FAIL',
      pass: failoverPass,
    },
    {
      scenario: 'fencing: tokens rise, no overlapping tenure',
      value: report.failover.fencing.problems.length
        ? report.failover.fencing.problems.slice(0, 2).join('; ')
        : `${report.failover.fencing.tenures} tenures, none overlap`,
      baseline: '',
      ratio: '',
      target: 'no violation',
      verdict: fencingPass ? 'PASS' : 'FAIL',
      pass: fencingPass,
    },
    {
      scenario: `lease ${settings.load_ttl_s} s under load ${settings.load_seconds} s (${settings.busy_loops} busy loops + NATS flood)`,
      value: `${load.role_changes.length} role changes; refreshes ${refreshed} ok, ${refreshFailed} failed`,
      baseline: `machine ${load.cpu.machine_busy.toFixed(2)} of ${cpus().length} cores busy`,
      ratio: '',
      target: '0 false failovers',
      verdict: stablePass ? 'PASS' : 'FAIL',
      pass: stablePass,
    },
    {
      scenario: 'electors’ worst event-loop lag under that load',
      value: `${lag} ms`,
      baseline: `a refresh may be ${slackMs} ms late before the server steps down`,
      ratio: '',
      target: '(info)',
      verdict: '(info)',
      info: true,
    },
  ];
  const trialRows = report.failover.trials.map((t) => [
    String(t.trial),
    t.killed,
    String(t.old_token),
    t.new_server,
    String(t.new_token),
    String(t.ms),
  ]);
  const floodRate = load.flood.seconds ? Math.round(load.flood.sent / load.flood.seconds) : 0;
  const cpuLine = `CPU under load (${load.cpu.seconds} s, cores): ${Object.entries(load.cpu.cores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(
      ', ',
    )}, other ${load.cpu.other.toFixed(2)}, machine ${load.cpu.machine_busy.toFixed(2)} of ${cpus().length}; flood ${floodRate} msgs/s`;
  const detail = (markdown) =>
    [
      textTable(['trial', 'killed', 'token', 'new server', 'token', 'failover ms'], trialRows, { markdown, left: [1, 3] }),
      '',
      '(failover = SIGKILL of the server → the bench receives another node’s role_changed with role server; kills land at a random point of the refresh period)',
      '',
      textTable(
        ['elector', 'refreshes ok', 'failed', 'lost', 'take failed', 'max loop lag ms'],
        Object.entries(load.per_elector).map(([id, e]) =>
          [id, e.refreshes_ok, e.refreshes_failed, e.refreshes_lost, e.attempts_failed, e.event_loop_lag_max_ms].map(String),
        ),
        { markdown, left: [0] },
      ),
      '',
      markdown ? `${cpuLine}.` : cpuLine,
      load.role_changes.length
        ? `Role changes under load: ${load.role_changes.join(', ')}`
        : `No role change under load; ${load.server} (token ${load.token}) was server throughout.`,
    ].join('\n');
  recordRows(report, rows);
  return {
    report,
    rows,
    text: detail(false),
    markdown: [
      `${settings.electors} node-role-elector processes on one nats-server (JetStream). Failover: lease ${settings.ttl_s} s (refresh every ${(settings.ttl_s / 3).toFixed(1)} s, agents try to take it every 0.5 s), ${settings.trials} SIGKILLs of the current server. Stability: lease ${settings.load_ttl_s} s for ${settings.load_seconds} s with ${settings.busy_loops} busy-loop process(es) and ${settings.flood_publishers} NATS flood publisher(s).`,
      '',
      detail(true),
    ].join('\n'),
  };
}
