/**
 * Webhook delivery (monitoring, webhooks): 100 generic webhooks on `service_registered`,
 * all to one receiver on loopback, and a burst of registrations (each event → 100 POSTs).
 * Per delivery: the time the receiver gets it minus the event's timestamp (its body
 * carries it), p50/p99, and deliveries/s from the first event to the last arrival. Next
 * to it in the same run, the same number of POSTs with the same bodies sent by a bare got
 * loop (bench/webhook-loop.mjs) at the same concurrency, to the same receiver.
 *
 * First, events one at a time (500 ms apart): the latency of one event's 100 webhooks.
 *
 * Env: BENCH_WEBHOOKS_HOOKS=100  BENCH_WEBHOOKS_EVENTS=50  BENCH_WEBHOOKS_PACED=10  BENCH_WEBHOOK_CONCURRENCY=16
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { sleep } from '../lib/procs.mjs';
import {
  envNumber,
  log,
  makeTmp,
  metricSum,
  missingStack,
  percentile,
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

export const name = 'webhooks';
export const title = 'Webhook delivery: event → webhook received, 100 webhooks, vs a bare got loop';

export const settings = {
  webhooks: envNumber('BENCH_WEBHOOKS_HOOKS', 100),
  events: envNumber('BENCH_WEBHOOKS_EVENTS', 50),
  concurrency: envNumber('BENCH_WEBHOOK_CONCURRENCY', 16),
  /** Events sent one at a time first (each → 100 POSTs), 500 ms apart: the latency of one event's webhooks. */
  paced: envNumber('BENCH_WEBHOOKS_PACED', 10),
  /** Give up waiting for the deliveries after this long. */
  timeout_s: 120,
};

/** Deliveries/s at least this share of the bare loop's; every delivery made; p99 under the ceiling. */
export const TARGETS = { ratio: 0.3, p99_ms: 5000, paced_p99_ms: 500 };

export function missing() {
  return missingStack(['registry-api', 'realtime-gateway']);
}

/** A receiver in this process: records when each delivery arrives, keyed `<event id>:<webhook id>`. */
async function startReceiver() {
  const arrivals = new Map();
  let posts = 0;
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const at = Date.now();
      posts += 1;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (request.url === '/hook' && body.type === 'service_registered') {
          const key = `${body.event_id}:${body.webhook_id}`;
          if (!arrivals.has(key)) arrivals.set(key, { at, eventAt: Date.parse(body.timestamp) });
        }
      } catch {
        // The bare loop's bodies are read too; nothing to record.
      }
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    arrivals,
    posts: () => posts,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function postJson(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

export async function run({ stamp }) {
  const tmp = makeTmp('beacon-bench-webhooks-');
  const report = { settings, targets: TARGETS, checks: {} };
  let nats;
  let api;
  let gateway;
  let loop;
  const receiver = await startReceiver();
  try {
    nats = await startNats(tmp);
    api = await startRegistryApi(nats.url, join(tmp, 'webhooks.db'), tmp);
    gateway = await startWorker('realtime-gateway', nats.url, tmp, {
      name: 'bench-gateway',
      env: { BEACON_WEBHOOK_CONCURRENCY: String(settings.concurrency) },
    });
    const type = `bench-webhooks-${stamp}`;
    const hooks = [];
    for (let n = 0; n < settings.webhooks; n += 1) {
      hooks.push(await postJson(`${api.url}/api/v1/webhooks`, { url: `${receiver.url}/hook`, events: ['service_registered'], type }));
    }
    // The test request makes the gateway read the webhooks before the events come.
    await postJson(`${api.url}/api/v1/webhooks/${hooks.at(-1).webhook_id}/test`, undefined);
    await sleep(500);
    log(`webhooks: ${settings.paced} events one at a time, 500 ms apart ...`);
    for (let n = 0; n < settings.paced; n += 1) {
      await postJson(`${api.url}/api/v1/services/register`, { name: `paced-${stamp}-${n}`, type, host: '10.7.0.1', port: 9000 });
      await sleep(500);
    }
    const pacedExpected = settings.paced * settings.webhooks;
    const pacedDeadline = Date.now() + 30_000;
    while (receiver.arrivals.size < pacedExpected && Date.now() < pacedDeadline) await sleep(50);
    const paced = [...receiver.arrivals.values()].map((a) => a.at - a.eventAt);
    report.paced = { expected: pacedExpected, delivered: paced.length, p50_ms: percentile(paced, 50), p99_ms: percentile(paced, 99) };
    log(
      `webhooks: one event at a time: ${paced.length}/${pacedExpected} delivered, p50 ${report.paced.p50_ms} ms, p99 ${report.paced.p99_ms} ms`,
    );
    receiver.arrivals.clear();

    const expected = settings.webhooks * settings.events;
    log(`webhooks: ${settings.webhooks} webhooks; registering ${settings.events} services (${expected} deliveries) ...`);

    const bodies = Array.from({ length: settings.events }, (_, n) => ({
      name: `webhooks-${stamp}-${n}`,
      type,
      host: `10.8.${(n >> 8) & 255}.${n & 255}`,
      port: 9000,
    }));
    const started = Date.now();
    const load = await registerAll(api.url, bodies, 8);
    const deadline = Date.now() + settings.timeout_s * 1000;
    while (receiver.arrivals.size < expected && Date.now() < deadline) await sleep(50);
    const arrivals = [...receiver.arrivals.values()];
    const latencies = arrivals.map((a) => a.at - a.eventAt);
    const last = Math.max(...arrivals.map((a) => a.at));
    const firstEvent = Math.min(...arrivals.map((a) => a.eventAt));
    const metrics = await scrapeMetrics(gateway.url);
    report.checks.load = { registered: load.services.filter(Boolean).length, failures: load.failures, seconds: load.seconds };
    report.beacon = {
      expected,
      delivered: arrivals.length,
      posts_received: receiver.posts(),
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      max_ms: latencies.length ? Math.max(...latencies) : null,
      seconds: (last - Math.min(firstEvent, started)) / 1000,
      per_second: Math.round(arrivals.length / ((last - firstEvent) / 1000)),
      gateway_metrics: {
        delivered: metricSum(metrics, 'beacon_webhook_deliveries_total', { outcome: 'delivered' }),
        retried: metricSum(metrics, 'beacon_webhook_deliveries_total', { outcome: 'retried' }),
        failed: metricSum(metrics, 'beacon_webhook_deliveries_total', { outcome: 'failed' }),
      },
    };
    log(
      `webhooks: Beacon ${arrivals.length}/${expected} delivered, event → received p50 ${report.beacon.p50_ms} ms p99 ${report.beacon.p99_ms} ms, ${report.beacon.per_second}/s`,
    );

    // The same POSTs (same bodies as the gateway sent, one per delivery) by a bare loop.
    loop = await startHelper('webhook-loop', 'webhook-loop.mjs');
    const sample = JSON.stringify({
      v: 1,
      type: 'service_registered',
      event_id: '1',
      webhook_id: hooks[0].webhook_id,
      timestamp: new Date().toISOString(),
      data: load.services[0],
    });
    const bare = await loop.ask(
      {
        cmd: 'run',
        url: `${receiver.url}/bare`,
        bodies: Array.from({ length: expected }, () => sample),
        concurrency: settings.concurrency,
      },
      'result',
      settings.timeout_s * 1000,
    );
    report.bare = {
      sent: bare.sent,
      ok: bare.ok,
      failed: bare.failed,
      per_second: Math.round(bare.ok / bare.seconds),
      post_p50_ms: Math.round(percentile(bare.latencies_ms, 50) * 100) / 100,
      post_p99_ms: Math.round(percentile(bare.latencies_ms, 99) * 100) / 100,
    };
    log(`webhooks: bare got loop ${bare.ok}/${bare.sent} in ${bare.seconds.toFixed(2)} s, ${report.bare.per_second}/s`);
    return finish(report);
  } finally {
    await stopAll([loop, gateway, api, nats]);
    await receiver.close();
    removeTmp(tmp);
  }
}

function finish(report) {
  const b = report.beacon;
  const bare = report.bare;
  const ratio = bare.per_second > 0 ? b.per_second / bare.per_second : 0;
  const allDelivered = b.delivered === b.expected;
  const rows = [
    {
      scenario: `webhook deliveries/s, ${settings.webhooks} webhooks × ${settings.events} events, concurrency ${settings.concurrency}`,
      value: `${b.per_second}/s`,
      baseline: `bare got loop ${bare.per_second}/s`,
      ratio: ratio.toFixed(2),
      target: `>= ${TARGETS.ratio} of bare, all delivered`,
      verdict: ratio >= TARGETS.ratio && allDelivered ? 'PASS' : 'FAIL',
      pass: ratio >= TARGETS.ratio && allDelivered,
    },
    {
      scenario: `event → webhook received, one event at a time (${settings.webhooks} webhooks each)`,
      value: `p50 ${report.paced.p50_ms} ms, p99 ${report.paced.p99_ms} ms`,
      baseline: `bare POST p50 ${bare.post_p50_ms} ms, p99 ${bare.post_p99_ms} ms`,
      ratio: '',
      target: `p99 < ${TARGETS.paced_p99_ms} ms`,
      verdict:
        report.paced.p99_ms !== null && report.paced.p99_ms < TARGETS.paced_p99_ms && report.paced.delivered === report.paced.expected
          ? 'PASS'
          : 'FAIL',
      pass: report.paced.p99_ms !== null && report.paced.p99_ms < TARGETS.paced_p99_ms && report.paced.delivered === report.paced.expected,
    },
    {
      scenario: 'event → webhook received (the burst queued at the concurrency)',
      value: `p50 ${b.p50_ms} ms, p99 ${b.p99_ms} ms`,
      baseline: `bare POST p50 ${bare.post_p50_ms} ms, p99 ${bare.post_p99_ms} ms`,
      ratio: '',
      target: `p99 < ${TARGETS.p99_ms} ms`,
      verdict: b.p99_ms !== null && b.p99_ms < TARGETS.p99_ms ? 'PASS' : 'FAIL',
      pass: b.p99_ms !== null && b.p99_ms < TARGETS.p99_ms,
    },
  ];
  recordRows(report, rows);
  const detail = (markdown) =>
    textTable(
      ['', 'deliveries', 'per s', 'p50 ms', 'p99 ms', 'max ms'],
      [
        [
          'Beacon, one event at a time',
          `${report.paced.delivered}/${report.paced.expected}`,
          '-',
          report.paced.p50_ms,
          report.paced.p99_ms,
          '-',
        ].map((v) => String(v ?? '-')),
        ['Beacon, burst (event → received)', `${b.delivered}/${b.expected}`, b.per_second, b.p50_ms, b.p99_ms, b.max_ms].map((v) =>
          String(v ?? '-'),
        ),
        ['bare got loop (one POST)', `${bare.ok}/${bare.sent}`, bare.per_second, bare.post_p50_ms, bare.post_p99_ms, '-'].map(String),
      ],
      { markdown, left: [0] },
    );
  return {
    report,
    rows,
    text: detail(false),
    markdown: [
      `${settings.webhooks} generic webhooks on \`service_registered\` to one receiver on loopback; ${settings.events} registrations as fast as the API takes them (8 concurrent), so ${b.expected} deliveries queue at BEACON_WEBHOOK_CONCURRENCY=${settings.concurrency}. Gateway counters: ${JSON.stringify(b.gateway_metrics)}.`,
      '',
      detail(true),
    ].join('\n'),
  };
}
