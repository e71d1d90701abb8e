/**
 * Health-check targets for the probe benchmark: plain `node:http` servers on 127.0.0.1,
 * each on a port the OS picks, answering every request with `{"status":"healthy"}` at
 * once, keep-alive (idle sockets kept 60 s, longer than the prober's 15 s idle close).
 *
 * Usage (as a child with an IPC channel, from bench/sections/probe.mjs):
 *   node bench/probe-targets.mjs [servers=4] [delayMs=0]
 * delayMs > 0 answers each request that much later (a target with real latency: then
 * concurrency / latency, not CPU, bounds the probes per second).
 * Sends {ready: true, ports: [...]} when listening; answers {cmd: 'stats'} with
 * {requests, connections}. Exits on 'disconnect' (its parent went away) or SIGTERM.
 */
import { createServer } from 'node:http';

const count = Number(process.argv[2] ?? 4);
const delayMs = Number(process.argv[3] ?? 0);
const BODY = Buffer.from('{"status":"healthy"}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };
let requests = 0;
let connections = 0;

const servers = [];
for (let i = 0; i < count; i += 1) {
  const server = createServer((request, response) => {
    requests += 1;
    // Drain whatever the client sent (nothing, for a GET), then answer.
    request.resume();
    const answer = () => {
      response.writeHead(200, HEADERS);
      response.end(BODY);
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.maxRequestsPerSocket = 0;
  server.on('connection', () => (connections += 1));
  servers.push(server);
}

await Promise.all(servers.map((server) => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))));
const ports = servers.map((server) => server.address().port);

process.on('message', (message) => {
  if (message?.cmd === 'stats') process.send({ stats: { requests, connections } });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send({ ready: true, ports });
