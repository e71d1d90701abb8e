/**
 * The SDK's live catalog: does `watch()` (built @beacon/client, libs/client/dist) keep up
 * with the WebSocket it reads? 1,000 services registered, one watch of them, and changes
 * (PUT /api/v1/services/{id}, a metadata edit) at a steady rate. Per change:
 *
 *   cache lag  the time from registry-api's 2xx answer to the watch's cache holding that
 *              revision (its onChange; 0 when it already held it before the answer came)
 *   ws delay   the same, for a raw `ws` client of the same gateway with the same filter,
 *              in the same process and run: the plain WebSocket delivery delay
 *
 * Target: cache-lag p99 ≤ 1.5 × ws p99, or at most 5 ms over it (on 2 shared cores a p99 of
 * a few ms makes any ratio noise). At the end, the whole catalog (GET /api/v1/services, page
 * by page) against the cache: id, revision and status must match for every service.
 *
 * Env: BENCH_SDK_SERVICES=1000  BENCH_SDK_RATE=20  BENCH_SDK_DURATION=30  BENCH_SDK_WARMUP=3
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sleep } from '../lib/procs.mjs';
import {
  envNumber,
  fmtMs,
  log,
  makeTmp,
  missingStack,
  percentile,
  recordRows,
  registerAll,
  removeTmp,
  REPO,
  startNats,
  startRegistryApi,
  startWorker,
  stopAll,
  textTable,
} from '../lib/stack.mjs';

export const name = 'sdk-watch';
export const title = "SDK watch(): the cache's lag behind the catalog vs the raw WebSocket, 1,000 services at 20 changes/s";

export const settings = {
  services: envNumber('BENCH_SDK_SERVICES', 1000),
  rate: envNumber('BENCH_SDK_RATE', 20),
  duration_s: envNumber('BENCH_SDK_DURATION', 30),
  warmup_s: envNumber('BENCH_SDK_WARMUP', 3),
};

export const TARGETS = { ratio: 1.5, plus_ms: 5 };

const CLIENT_DIST = join(REPO, 'libs', 'client', 'dist', 'index.mjs');
const clientRequire = () => createRequire(join(REPO, 'libs', 'client', 'package.json'));

export function missing() {
  const out = missingStack(['registry-api', 'realtime-gateway'], { natsClient: false });
  if (!existsSync(CLIENT_DIST)) out.push('libs/client/dist/index.mjs (run "pnpm build" first)');
  try {
    clientRequire().resolve('ws');
  } catch {
    out.push('ws in libs/client/node_modules (run "pnpm install")');
  }
  return out;
}

export async function run({ stamp }) {
  const tmp = makeTmp('beacon-bench-sdk-');
  const running = [];
  let watch;
  let raw;
  try {
    const nats = await startNats(tmp);
    running.push(nats);
    const api = await startRegistryApi(nats.url, join(tmp, 'sdk.db'), tmp);
    running.push(api);
    const gateway = await startWorker('realtime-gateway', nats.url, tmp);
    running.push(gateway);

    const type = `sdk-${stamp}`.slice(0, 50);
    const bodies = Array.from({ length: settings.services }, (_, i) => ({
      name: `sdk-${i}`,
      type,
      host: '10.20.0.1',
      port: 10_000 + i,
      tags: ['bench-sdk'],
      metadata: { rev: '0' },
      ttl: 3600,
    }));
    const load = await registerAll(api.url, bodies, 32);
    if (load.failures) throw new Error(`registration failed ${load.failures} times: ${load.first_error}`);
    const services = load.services;
    log(`sdk-watch: ${services.length} services registered in ${load.seconds} s`);

    // The two readers of the same feed: arrival time per `${id}:${revision}`.
    const cacheAt = new Map();
    const rawAt = new Map();
    // The raw client connects first: the gateway writes to its clients in turn, so it is served before the watch.
    raw = await rawClient(`ws://127.0.0.1:${gateway.port}/api/v1/ws?type=${encodeURIComponent(type)}&events=service_updated`, rawAt);
    const { Watch } = await import(pathToFileURL(CLIENT_DIST).href);
    const snapshotStarted = performance.now();
    watch = new Watch({ url: gateway.url }, { type }, { heartbeats: false });
    watch.onChange((change) => {
      if (change.kind === 'upsert') cacheAt.set(`${change.service.service_id}:${change.service.revision}`, performance.now());
    });
    await watch.ready;
    const snapshotMs = performance.now() - snapshotStarted;

    log(
      `sdk-watch: watch ready (snapshot of ${watch.services().length}) in ${fmtMs(snapshotMs)}; ${settings.rate} changes/s for ${settings.duration_s} s`,
    );
    const warm = await drive(api.url, services, settings.rate, settings.warmup_s);
    const changes = await drive(api.url, services, settings.rate, settings.duration_s);
    await sleep(2_000);

    const lagsOf = (arrivals) => {
      const lags = [];
      let missed = 0;
      for (const change of changes.done) {
        const at = arrivals.get(`${change.id}:${change.revision}`);
        if (at === undefined) {
          missed += 1;
          if (process.env.BENCH_SDK_DEBUG)
            log(
              `missed ${change.id}:${change.revision}; held ${watch.get(change.id)?.revision}; arrivals ${[...arrivals.keys()].filter((k) => k.startsWith(change.id)).join(' ')}`,
            );
        } else lags.push(Math.max(0, at - change.answeredAt));
      }
      return { lags, missed };
    };
    const cache = lagsOf(cacheAt);
    const ws = lagsOf(rawAt);
    const comparison = await compareWithCatalog(api.url, type, watch);
    const pickUs = timePicks(watch);
    const report = {
      settings,
      targets: TARGETS,
      checks: { load: { seconds: load.seconds, rps: load.rps }, snapshot_ms: Math.round(snapshotMs), warmup_changes: warm.done.length },
      result: {
        changes: changes.done.length,
        change_failures: changes.failures,
        achieved_rate: Math.round((changes.done.length / settings.duration_s) * 10) / 10,
        cache: summary(cache),
        ws: summary(ws),
        catalog: comparison,
        pick_us: pickUs,
      },
    };
    log(
      `sdk-watch: ${changes.done.length} changes; cache lag p50 ${fmtMs(report.result.cache.p50_ms)} p99 ${fmtMs(report.result.cache.p99_ms)}, ` +
        `raw ws p50 ${fmtMs(report.result.ws.p50_ms)} p99 ${fmtMs(report.result.ws.p99_ms)}; catalog mismatches ${comparison.mismatches}`,
    );
    return finish(report);
  } finally {
    await watch?.close().catch(() => undefined);
    raw?.terminate();
    await stopAll([...running].reverse());
    removeTmp(tmp);
  }
}

/** A plain `ws` client: arrival time of every service_updated, by id and revision. */
async function rawClient(url, arrivals) {
  const { WebSocket } = clientRequire()('ws');
  const socket = new WebSocket(url);
  socket.on('message', (data) => {
    try {
      const message = JSON.parse(data.toString());
      if (message.data?.service_id) arrivals.set(`${message.data.service_id}:${message.revision}`, performance.now());
    } catch {
      // not an event
    }
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return socket;
}

let changeCount = 0;

/** `rate` PUTs a second for `seconds`, on a schedule (not one after another), each to the next service in turn. */
async function drive(url, services, rate, seconds) {
  const done = [];
  let failures = 0;
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight = [];
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    // Each change a new value: a PUT that changes nothing publishes nothing.
    const change = ++changeCount;
    const service = services[change % services.length];
    inFlight.push(
      fetch(`${url}/api/v1/services/${service.service_id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metadata: { rev: String(change) } }),
      })
        .then(async (response) => {
          const answeredAt = performance.now();
          const body = await response.json();
          if (response.status === 200) done.push({ id: service.service_id, revision: body.revision, answeredAt });
          else failures += 1;
        })
        .catch(() => (failures += 1)),
    );
  }
  await Promise.all(inFlight);
  return { done, failures };
}

/** Every service of the catalog (pages of 100) against the cache: id, revision, status. */
async function compareWithCatalog(url, type, watch) {
  const read = async () => {
    const catalog = [];
    for (let skip = 0; ; skip += 100) {
      const response = await fetch(`${url}/api/v1/services?type=${encodeURIComponent(type)}&limit=100&skip=${skip}`);
      const page = await response.json();
      catalog.push(...page.services);
      if (page.services.length < 100) break;
    }
    const cached = new Map(watch.services().map((s) => [s.service_id, s]));
    let mismatches = 0;
    for (const service of catalog) {
      const held = cached.get(service.service_id);
      if (!held || held.revision !== service.revision || held.status !== service.status) mismatches += 1;
      cached.delete(service.service_id);
    }
    return { catalog: catalog.length, cache: watch.services().length, mismatches: mismatches + cached.size };
  };
  // The last change may still be on its way: a few tries, a second apart.
  let result = await read();
  for (let attempt = 0; attempt < 5 && result.mismatches > 0; attempt++) {
    await sleep(1_000);
    result = await read();
  }
  return result;
}

/** µs per pick() over the 1,000 cached services, per strategy (it filters and, for round-robin, sorts on every call). */
function timePicks(watch) {
  const out = {};
  for (const strategy of ['random', 'round-robin', 'least-load']) {
    const n = 2_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) watch.pick(strategy);
    out[strategy] = Math.round(((performance.now() - started) * 1000) / n);
  }
  return out;
}

function summary({ lags, missed }) {
  const round = (v) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    received: lags.length,
    missed,
    p50_ms: round(percentile(lags, 50)),
    p90_ms: round(percentile(lags, 90)),
    p99_ms: round(percentile(lags, 99)),
    max_ms: round(lags.length ? Math.max(...lags) : null),
  };
}

function finish(report) {
  const r = report.result;
  const ratio = r.ws.p99_ms > 0 ? r.cache.p99_ms / r.ws.p99_ms : null;
  const ceiling = Math.max(TARGETS.ratio * (r.ws.p99_ms ?? 0), (r.ws.p99_ms ?? 0) + TARGETS.plus_ms);
  const lagPass = r.cache.p99_ms !== null && r.cache.p99_ms <= ceiling && r.cache.missed === 0;
  const catalogPass = r.catalog.mismatches === 0 && r.catalog.catalog === report.settings.services;
  const rows = [
    {
      scenario: `watch() cache lag p99, ${report.settings.services} services, ${r.achieved_rate} changes/s`,
      value: `p99 ${fmtMs(r.cache.p99_ms)} (p50 ${fmtMs(r.cache.p50_ms)})`,
      baseline: `raw ws p99 ${fmtMs(r.ws.p99_ms)} (p50 ${fmtMs(r.ws.p50_ms)})`,
      ratio: ratio === null ? '-' : `${ratio.toFixed(2)}x`,
      target: `<= ${TARGETS.ratio}x or +${TARGETS.plus_ms} ms, none missed`,
      verdict: lagPass ? 'PASS' : 'FAIL',
      pass: lagPass,
    },
    {
      scenario: 'cache == catalog at the end (id, revision, status)',
      value: `${r.catalog.mismatches} mismatches (${r.catalog.cache} cached / ${r.catalog.catalog} listed)`,
      baseline: '',
      ratio: '',
      target: '0 mismatches',
      verdict: catalogPass ? 'PASS' : 'FAIL',
      pass: catalogPass,
    },
    {
      scenario: `pick() over ${report.settings.services} cached services`,
      value: Object.entries(r.pick_us)
        .map(([strategy, us]) => `${strategy} ${us} µs`)
        .join(', '),
      baseline: '',
      ratio: '',
      target: '(info)',
      verdict: '',
      info: true,
    },
    {
      scenario: `watch ready (snapshot of ${report.settings.services})`,
      value: fmtMs(report.checks.snapshot_ms),
      baseline: '',
      ratio: '',
      target: '(info)',
      verdict: '',
      info: true,
    },
  ];
  const detail = (markdown) =>
    [
      textTable(
        ['reader', 'changes', 'received', 'missed', 'p50', 'p90', 'p99', 'max'],
        [
          ['watch() cache', r.changes, r.cache.received, r.cache.missed, r.cache.p50_ms, r.cache.p90_ms, r.cache.p99_ms, r.cache.max_ms],
          ['raw ws client', r.changes, r.ws.received, r.ws.missed, r.ws.p50_ms, r.ws.p90_ms, r.ws.p99_ms, r.ws.max_ms],
        ].map((row) => row.map((v) => String(v ?? '-'))),
        { markdown, left: [0] },
      ),
      '',
      "(ms from registry-api's 2xx answer to the reader holding that revision; 0 when it arrived before the answer)",
      `change failures: ${r.change_failures}; catalog check: ${r.catalog.mismatches} mismatches`,
    ].join('\n');
  recordRows(report, rows);
  return {
    report,
    rows,
    text: detail(false),
    markdown: [
      `${report.settings.services} services registered (${report.checks.load.rps}/s), one watch() of them (built @beacon/client, ws package) and one raw ws client in the bench process; ${r.changes} PUTs at ${r.achieved_rate}/s.`,
      '',
      detail(true),
    ].join('\n'),
  };
}
