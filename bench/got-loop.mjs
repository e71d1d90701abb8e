/**
 * The probe baseline: a bare `got` loop, the HTTP client health-prober uses, with a
 * keep-alive http.Agent and `concurrency` requests in flight, round-robin over the same
 * health-check URLs the prober checks. Each request reads the body and parses it as JSON
 * (a check must look at `status`), nothing else: no scheduling, SSRF guard, timeouts
 * beyond got's own, metrics or publishing.
 *
 * Usage (as a child with an IPC channel, from bench/sections/probe.mjs):
 *   node bench/got-loop.mjs       then send {cmd: 'start', urls: [...], concurrency: 256}
 * Answers {cmd: 'count'} with {count: {done, ok, failed, at}} (at = performance.now() ms);
 * exits on {cmd: 'stop'}, 'disconnect' or SIGTERM.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// got is ESM-only: resolve it where health-prober gets it (same version), then import() it.
const gotEntry = createRequire(join(root, 'apps', 'health-prober', 'package.json')).resolve('got');
const { default: got } = await import(pathToFileURL(gotEntry).href);

const agent = new http.Agent({ keepAlive: true, timeout: 15_000 });
const client = got.extend({
  agent: { http: agent },
  retry: { limit: 0 },
  throwHttpErrors: false,
  timeout: { request: 5000 },
});

let done = 0;
let ok = 0;
let failed = 0;
let lastError = null;
let running = false;

async function loop(urls, concurrency) {
  let next = 0;
  const worker = async () => {
    while (running) {
      const url = urls[next];
      next = next + 1 === urls.length ? 0 : next + 1;
      try {
        const response = await client(url);
        const body = JSON.parse(response.body);
        if (response.statusCode >= 200 && response.statusCode < 300 && body?.status === 'healthy') ok += 1;
        else failed += 1;
      } catch (error) {
        failed += 1;
        lastError = String(error?.message ?? error);
      }
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

process.on('message', (message) => {
  if (message?.cmd === 'start' && !running) {
    running = true;
    void loop(message.urls, message.concurrency);
  } else if (message?.cmd === 'count') {
    process.send({ count: { done, ok, failed, last_error: lastError, at: performance.now() } });
  } else if (message?.cmd === 'stop') {
    running = false;
    agent.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send({ ready: true, got: gotEntry });
