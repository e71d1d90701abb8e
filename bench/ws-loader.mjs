/**
 * The `ws` section's loader, a separate process: fires `count` triggers at a steady
 * `rate` (trigger n is due at start + n/rate; it is not held back by earlier ones still in
 * flight), each named `${prefix}${n}`.
 *
 *   mode 'rest'  POST <url>/api/v1/services/register with `body` + that name (keep-alive fetch):
 *                registry-api stores it and publishes beacon.events.service.registered
 *   mode 'nats'  publish on core NATS `subject` an event document shaped like registry-api's
 *                ({v, type, timestamp: now, revision, service: `service` + that name and a fresh id}):
 *                the bare ws server's trigger
 *
 * Usage (a child with an IPC channel): node bench/ws-loader.mjs
 *   {cmd:'run', mode, url | nats_url + subject, rate, count, prefix, body | service} -> {done: {...}}
 *   {cmd:'stop'} ends a run early.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nats = createRequire(join(root, 'libs', 'testing', 'package.json'))('nats');

let stopped = false;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function run({ mode, url, nats_url: natsUrl, subject, rate, count, prefix, body, service }) {
  stopped = false;
  let nc = null;
  if (mode === 'nats') nc = await nats.connect({ servers: natsUrl, name: 'bench-ws-loader', maxReconnectAttempts: 0 });
  const encoder = new TextEncoder();
  const inFlight = new Set();
  const slips = [];
  const responseMs = [];
  let sent = 0;
  let failures = 0;
  let firstError = null;
  const fire = (n) => {
    const name = `${prefix}${n}`;
    if (mode === 'nats') {
      const document = {
        v: 1,
        type: 'service.registered',
        timestamp: new Date().toISOString(),
        revision: n + 1,
        service: { ...service, service_id: randomUUID(), name },
      };
      nc.publish(subject, encoder.encode(JSON.stringify(document)));
      return;
    }
    const started = performance.now();
    const request = fetch(`${url}/api/v1/services/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, name }),
    })
      .then(async (response) => {
        const text = await response.text();
        responseMs.push(performance.now() - started);
        if (response.status !== 201) {
          failures += 1;
          firstError ??= `${response.status}: ${text.slice(0, 300)}`;
        }
      })
      .catch((error) => {
        failures += 1;
        firstError ??= error.message;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const startedAt = Date.now();
  const t0 = performance.now();
  for (let n = 0; n < count && !stopped; n++) {
    const due = t0 + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait - 0.5);
    while (performance.now() < due) {
      /* the last half millisecond: spin (timers are ~1 ms coarse) */
    }
    slips.push(performance.now() - due);
    fire(n);
    sent += 1;
  }
  const firedMs = performance.now() - t0;
  await Promise.all([...inFlight]);
  if (nc) {
    await nc.flush();
    await nc.close();
  }
  const sorted = (values) => [...values].sort((a, b) => a - b);
  const pct = (values, p) => (values.length ? values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] : null);
  const s = sorted(slips);
  const r = sorted(responseMs);
  const round = (v) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    mode,
    sent,
    failures,
    first_error: firstError,
    started_at: startedAt,
    fired_s: round(firedMs / 1000),
    achieved_rate: round(sent / (firedMs / 1000 + 1 / rate)),
    slip_ms: { p50: round(pct(s, 50)), p99: round(pct(s, 99)), max: round(s.at(-1) ?? null) },
    response_ms: mode === 'rest' ? { p50: round(pct(r, 50)), p99: round(pct(r, 99)), max: round(r.at(-1) ?? null) } : null,
  };
}

process.on('message', async (message) => {
  if (message?.cmd === 'stop') {
    stopped = true;
    return;
  }
  if (message?.cmd !== 'run') return;
  try {
    process.send({ done: await run(message) });
  } catch (error) {
    process.send({ done: { error: String(error?.stack ?? error) } });
  }
});
process.on('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
