// Drives seed 000's JavaScript client (beacon-client.js, loaded unchanged): the file runs as
// printed, so its Express usage starts (port 8080 on the client host), registers
// "my-node-service" through its module-level `beacon` and installs its SIGINT handler. Then this
// driver uses the printed class for a heartbeat flow of its own. One JSON line per step on stdout
// (the snippet's own console output is plain text between them).
//
// usage: node drive-js-client.cjs SECONDS
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const file = join(__dirname, 'beacon-client.js');
const emit = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...fields })}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The file's text, unchanged, inside a CommonJS-style function whose last statement hands back
 * what the file declares (top-level `const`s are otherwise out of reach).
 */
function load() {
  const source = readFileSync(file, 'utf8');
  const wrapped = `(function (require, module, exports, __filename, __dirname) {\n${source}\nreturn { BeaconClient, app, beacon };\n})`;
  const factory = vm.runInThisContext(wrapped, { filename: file, lineOffset: -1 });
  const module = { exports: {} };
  return factory(createRequire(file), module, module.exports, file, dirname(file));
}

async function main() {
  const seconds = Number(process.argv[2] ?? 25);
  const { BeaconClient, beacon } = load();
  const deadline = Date.now() + 15_000;
  while (!beacon.serviceId && Date.now() < deadline) await sleep(100);
  emit('usage-registered', { service_id: beacon.serviceId });

  // The printed class with its printed default base URL, kept alive by startHeartbeat.
  const client = new BeaconClient();
  const registered = await client.register({
    name: 'compat-js-heartbeat',
    type: 'api',
    host: '192.168.1.100',
    port: 8081,
    tags: ['nodejs', 'compat'],
    ttl: 10,
  });
  emit('registered', { service_id: client.serviceId, response: registered });
  await client.startHeartbeat(3000);
  await sleep(seconds * 1000);
  const axios = createRequire(file)('axios');
  const found = await axios.get(`${client.beaconUrl}/api/v1/services/discover`, { params: { name: 'compat-js-heartbeat' } });
  emit('discovered', { status: found.status, body: found.data });
  emit('deregistering');
  await client.deregister();
  emit('deregistered');
  // The Express usage's own shutdown path: the test sends SIGINT, its handler deregisters.
  emit('ready-for-sigint');
}

main().catch((error) => {
  emit('error', { error: String(error?.stack ?? error) });
  process.exit(1);
});
