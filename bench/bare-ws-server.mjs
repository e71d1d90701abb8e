/**
 * The `ws` section's baseline: a bare `ws` WebSocketServer (the same `ws` package
 * realtime-gateway uses, no framework) broadcasting to every connected client. Triggers
 * come over core NATS, as Beacon's events reach the gateway over NATS: each trigger is
 * an event document like registry-api's (`{v, type, timestamp, revision, service}`),
 * JSON.parse'd, turned into the gateway's message shape
 * `{type, event, data: service, timestamp, seq, revision}`, JSON.stringify'd once and
 * sent to every open client. Nothing else: no filters, sessions, replay ring, metrics,
 * JetStream or slow-client check.
 *
 * Usage (a child with an IPC channel, from bench/sections/ws.mjs):
 *   node bench/bare-ws-server.mjs <nats-url> <trigger-subject>
 * Listens on an OS-assigned loopback port, path /api/v1/ws; sends {ready, port} over IPC.
 * A new client gets a `connection_established` greeting; GET /health answers 200 at once (the
 * bench times it, as it times realtime-gateway's, to see whether the event loop keeps up).
 * {cmd:'stats'} -> {stats: {clients, triggers, sent}}.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { WebSocketServer, WebSocket } = createRequire(join(root, 'apps', 'realtime-gateway', 'package.json'))('ws');
const nats = createRequire(join(root, 'libs', 'testing', 'package.json'))('nats');

const [natsUrl, subject] = process.argv.slice(2);
if (!natsUrl || !subject) {
  process.stderr.write('usage: node bench/bare-ws-server.mjs <nats-url> <trigger-subject>\n');
  process.exit(2);
}

// /health answers at once: the bench times it to see whether the event loop keeps up.
const http = createServer((request, response) => {
  if (request.url === '/health') response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  else response.writeHead(404).end();
});
const wss = new WebSocketServer({ server: http, path: '/api/v1/ws' });
let seq = 0;
let triggers = 0;
let sent = 0;

wss.on('connection', (socket) => {
  socket.send(JSON.stringify({ type: 'connection_established', message: 'bare ws server', seq, timestamp: new Date().toISOString() }));
});

const decoder = new TextDecoder();
const nc = await nats.connect({ servers: natsUrl, name: 'bench-bare-ws', maxReconnectAttempts: 0 });
nc.subscribe(subject, {
  callback: (error, message) => {
    if (error) return;
    const event = JSON.parse(decoder.decode(message.data));
    triggers += 1;
    seq += 1;
    const json = JSON.stringify({
      type: 'service_registered',
      event: 'service_registered',
      data: event.service,
      timestamp: event.timestamp,
      seq,
      revision: event.revision,
    });
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(json);
        sent += 1;
      }
    }
  },
});
await nc.flush();

http.listen(0, '127.0.0.1', () => {
  process.send({ ready: true, port: http.address().port });
});

process.on('message', (message) => {
  if (message?.cmd === 'stats') process.send({ stats: { clients: wss.clients.size, triggers, sent } });
});
const stop = () => {
  for (const client of wss.clients) client.terminate();
  http.close();
  nc.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('disconnect', stop);
process.once('SIGTERM', stop);
