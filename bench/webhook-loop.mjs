/**
 * The webhooks baseline: the same POSTs realtime-gateway sends (one JSON body per delivery),
 * sent by a bare `got` loop with a keep-alive agent and `concurrency` requests in flight —
 * no queue, no JetStream, no retries, no SSRF guard, no reporting.
 *
 * Usage (as a child with an IPC channel, from bench/sections/webhooks.mjs):
 *   node bench/webhook-loop.mjs    then send {cmd: 'run', url, bodies: [...], concurrency: 16}
 * Answers with {result: {sent, ok, failed, seconds, latencies_ms: [...]}}; exits on 'disconnect'.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// got is ESM-only: resolve it where realtime-gateway gets it (same version), then import() it.
const gotEntry = createRequire(join(root, 'apps', 'realtime-gateway', 'package.json')).resolve('got');
const { default: got } = await import(pathToFileURL(gotEntry).href);

const agent = new http.Agent({ keepAlive: true });
const client = got.extend({ agent: { http: agent }, retry: { limit: 0 }, throwHttpErrors: false, timeout: { request: 10_000 } });

async function run(url, bodies, concurrency) {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const latencies = [];
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const at = performance.now();
      try {
        const response = await client.post(url, { body, headers: { 'content-type': 'application/json' } });
        if (response.statusCode >= 200 && response.statusCode < 300) ok += 1;
        else failed += 1;
      } catch {
        failed += 1;
      }
      latencies.push(performance.now() - at);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sent: bodies.length, ok, failed, seconds: (performance.now() - started) / 1000, latencies_ms: latencies };
}

process.on('message', (message) => {
  if (message?.cmd === 'run') {
    void run(message.url, message.bodies, message.concurrency).then((result) => process.send?.({ result }));
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
