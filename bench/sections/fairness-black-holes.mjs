/**
 * Black holes for the fairness section: one TCP listener per loopback address
 * (127.1.<n/250>.<n%250+1>, all loopback on Linux: one host each, so the prober's per-host
 * cap does not help and its lanes must), each accepting connections and never answering.
 *
 * Usage (a child with an IPC channel, from bench/sections/fairness.mjs):
 *   node bench/sections/fairness-black-holes.mjs [count=300]
 * Sends {ready: true, targets: ['http://127.1.0.1:<port>/health', ...]}; answers
 * {cmd: 'stats'} with {stats: {accepted, held}}. Exits on 'disconnect' or SIGTERM.
 */
import { createServer } from 'node:net';

const count = Number(process.argv[2] ?? 300);
const held = new Set();
let accepted = 0;

const hostOf = (n) => `127.1.${Math.floor(n / 250)}.${(n % 250) + 1}`;

const targets = await Promise.all(
  Array.from({ length: count }, (_, n) => {
    const server = createServer((socket) => {
      accepted += 1;
      held.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => held.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, hostOf(n), () => resolve(`http://${hostOf(n)}:${server.address().port}/health`));
    });
  }),
);

process.on('message', (message) => {
  if (message?.cmd === 'stats') process.send({ stats: { accepted, held: held.size } });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send({ ready: true, targets });
