/**
 * WebSocket clients for the `ws` section: one process holding many `ws` client
 * connections (the bench runs two of these, so client work neither runs in the bench
 * orchestrator nor all on one thread). Per message it notes Date.now() at 'message',
 * then reads the top-level `timestamp`, `seq` and `data.name` straight from the frame's
 * bytes (cheaper than JSON.parse, identical for Beacon and the bare server; the first
 * message of each client per phase and every 500th are fully JSON.parse'd to check the
 * shape). delay = receipt - Date.parse(timestamp), kept as a 1 ms histogram (the
 * timestamp has ms resolution). Per client: how many times each message index (the
 * number after the last '-' in data.name) arrived, to find missing and duplicate ones.
 *
 * Connections come in named sets (one per server: the bench keeps 1,000 clients on the bare
 * server and 1,000 on the gateway, and measures one set at a time, so windows can alternate
 * without reconnecting). A phase names the set it measures; messages on other sets count as
 * `stray`.
 *
 * Usage (a child with an IPC channel, from bench/sections/ws.mjs): node bench/ws-clients.mjs
 *   {cmd:'connect', set, url, count, concurrency}      -> {connected: {open, failed, first_error, ms}}
 *   {cmd:'phase', set, prefix, expected, measure_from} -> {phase: true}   (resets the counters)
 *   {cmd:'count'}                                      -> {count: {received, at}}  (phase messages so far; at = Date.now())
 *   {cmd:'report'}                                     -> {report: {...}}  (histogram, missing, duplicates, ...)
 *   {cmd:'disconnect', set}                            -> {disconnected: {closed}}  (no set: all)
 * Exits on 'disconnect' of the IPC channel or SIGTERM.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WebSocket = createRequire(join(root, 'apps', 'realtime-gateway', 'package.json'))('ws');

const TIMESTAMP = Buffer.from('"timestamp":"');
const SEQ = Buffer.from('"seq":');
const NAME = Buffer.from('"name":"');
const QUOTE = 0x22;

/** set name -> clients: {socket, set, counts, lastSeq, checked, closeCode, open} */
const sets = new Map();
let phase = null;
const clientsOf = (set) => sets.get(set) ?? [];

function newPhase({ set, prefix, expected, measure_from: measureFrom }) {
  phase = {
    set,
    stray: 0, // messages on a connection of another set
    prefix: Buffer.from(prefix),
    expected,
    measureFrom,
    received: 0, // phase messages (name carries this phase's prefix), every client
    measured: 0, // of which index >= measureFrom (the histogram's population)
    hist: new Map(), // delay ms -> count
    foreign: 0, // event messages of another phase (late ones) or without a parsable name
    beyond: 0, // index >= expected
    outOfOrder: 0, // seq not above the client's previous one
    control: 0, // messages without a timestamp/name (greeting, pong...) during the phase
    checkedShape: 0,
    badShape: 0,
    badShapeExample: null,
    bytes: 0,
    sample: null,
    closedDuring: 0,
    // Per message index: the slowest delivery (ms) and its publish time: which events were slow.
    worst: new Float64Array(expected),
    published: new Float64Array(expected),
  };
  for (const client of clientsOf(set)) {
    client.counts = new Uint8Array(expected);
    client.lastSeq = -1;
    client.checked = false;
  }
}

function checkShape(data, client) {
  phase.checkedShape += 1;
  try {
    const message = JSON.parse(data);
    const ok =
      typeof message.type === 'string' &&
      message.event === message.type &&
      typeof message.data === 'object' &&
      message.data !== null &&
      typeof message.data.name === 'string' &&
      typeof message.timestamp === 'string' &&
      Number.isFinite(Date.parse(message.timestamp)) &&
      typeof message.seq === 'number' &&
      'revision' in message;
    if (!ok) {
      phase.badShape += 1;
      phase.badShapeExample ??= String(data).slice(0, 300);
    }
    phase.sample ??= String(data);
  } catch {
    phase.badShape += 1;
    phase.badShapeExample ??= String(data).slice(0, 300);
  }
  client.checked = true;
}

function onMessage(client, data) {
  const now = Date.now();
  if (!phase) return;
  if (client.set !== phase.set) {
    phase.stray += 1;
    return;
  }
  const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data);
  const t = buf.lastIndexOf(TIMESTAMP);
  const nameAt = buf.indexOf(NAME);
  if (t < 0 || nameAt < 0) {
    phase.control += 1;
    return;
  }
  // data.name: `${prefix}${index}`
  const nameStart = nameAt + NAME.length;
  const nameEnd = buf.indexOf(QUOTE, nameStart);
  if (
    nameEnd < 0 ||
    nameEnd - nameStart <= phase.prefix.length ||
    buf.compare(phase.prefix, 0, phase.prefix.length, nameStart, nameStart + phase.prefix.length) !== 0
  ) {
    phase.foreign += 1;
    return;
  }
  const index = Number(buf.toString('latin1', nameStart + phase.prefix.length, nameEnd));
  if (!Number.isInteger(index)) {
    phase.foreign += 1;
    return;
  }
  const tsStart = t + TIMESTAMP.length;
  const published = Date.parse(buf.toString('latin1', tsStart, buf.indexOf(QUOTE, tsStart)));
  const s = buf.lastIndexOf(SEQ);
  const seq = s >= 0 ? Number.parseInt(buf.toString('latin1', s + SEQ.length, Math.min(buf.length, s + SEQ.length + 20)), 10) : Number.NaN;
  phase.received += 1;
  phase.bytes += buf.length;
  if (!client.checked || phase.received % 500 === 0) checkShape(buf.toString(), client);
  if (Number.isFinite(seq)) {
    if (seq <= client.lastSeq) phase.outOfOrder += 1;
    client.lastSeq = seq;
  }
  if (index >= phase.expected) phase.beyond += 1;
  else {
    if (client.counts[index] < 255) client.counts[index] += 1;
    if (now - published > phase.worst[index]) phase.worst[index] = now - published;
    phase.published[index] = published;
  }
  if (index >= phase.measureFrom) {
    phase.measured += 1;
    const delay = now - published;
    phase.hist.set(delay, (phase.hist.get(delay) ?? 0) + 1);
  }
}

function connectOne(url, set) {
  return new Promise((resolve) => {
    const client = { socket: null, set, counts: new Uint8Array(0), lastSeq: -1, checked: false, closeCode: null, open: false };
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 15_000 });
    client.socket = socket;
    let settled = false;
    const settle = (error) => {
      if (settled) return;
      settled = true;
      resolve({ client, error });
    };
    // Ready once the server has spoken (Beacon's connection_established greeting; the bare
    // server sends one too): from then on the server knows this client.
    socket.once('message', () => {
      client.open = true;
      settle(null);
      socket.on('message', (data) => onMessage(client, data));
    });
    socket.once('error', (error) => settle(error));
    socket.once('close', (code) => {
      client.closeCode = code;
      if (client.open && phase?.set === set) phase.closedDuring += 1;
      settle(new Error(`closed ${code} before the greeting`));
    });
  });
}

async function connect({ set, url, count, concurrency = 50 }) {
  const clients = sets.get(set) ?? [];
  sets.set(set, clients);
  const started = Date.now();
  let next = 0;
  let failed = 0;
  let firstError = null;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const { client, error } = await connectOne(url, set);
      if (error) {
        failed += 1;
        firstError ??= error.message;
        client.socket.terminate();
      } else clients.push(client);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { open: clients.length, failed, first_error: firstError, ms: Date.now() - started };
}

function report() {
  const clients = clientsOf(phase.set);
  let missing = 0;
  let duplicates = 0;
  let clientsMissing = 0;
  let clientsDuplicated = 0;
  let complete = 0;
  for (const client of clients) {
    let m = 0;
    let d = 0;
    for (let i = 0; i < client.counts.length; i++) {
      const c = client.counts[i];
      if (c === 0) m += 1;
      else if (c > 1) d += c - 1;
    }
    missing += m;
    duplicates += d;
    if (m > 0) clientsMissing += 1;
    if (d > 0) clientsDuplicated += 1;
    if (m === 0 && d === 0) complete += 1;
  }
  const closeCodes = {};
  for (const client of clients) if (client.closeCode !== null) closeCodes[client.closeCode] = (closeCodes[client.closeCode] ?? 0) + 1;
  return {
    clients: clients.length,
    open: clients.filter((c) => c.socket.readyState === WebSocket.OPEN).length,
    expected_per_client: phase.expected,
    received: phase.received,
    measured: phase.measured,
    missing,
    duplicates,
    clients_missing: clientsMissing,
    clients_duplicated: clientsDuplicated,
    clients_complete: complete,
    foreign: phase.foreign,
    stray: phase.stray,
    beyond: phase.beyond,
    out_of_order: phase.outOfOrder,
    control: phase.control,
    checked_shape: phase.checkedShape,
    bad_shape: phase.badShape,
    bad_shape_example: phase.badShapeExample,
    mean_bytes: phase.received ? Math.round(phase.bytes / phase.received) : null,
    sample: phase.sample,
    closed_during: phase.closedDuring,
    close_codes: closeCodes,
    hist: [...phase.hist.entries()].sort((a, b) => a[0] - b[0]),
    worst: [...phase.worst],
    published: [...phase.published],
  };
}

async function disconnect({ set }) {
  const names = set ? [set] : [...sets.keys()];
  const all = names.flatMap((name) => clientsOf(name));
  for (const name of names) sets.delete(name);
  await Promise.all(
    all.map(
      (client) =>
        new Promise((resolve) => {
          if (client.socket.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            client.socket.terminate();
            resolve();
          }, 2000);
          client.socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          client.socket.close(1000, 'bench done');
        }),
    ),
  );
  return { closed: all.length };
}

process.on('message', async (message) => {
  try {
    if (message.cmd === 'connect') process.send({ connected: await connect(message) });
    else if (message.cmd === 'phase') {
      newPhase(message);
      process.send({ phase: true });
    } else if (message.cmd === 'count') process.send({ count: { received: phase?.received ?? 0, at: Date.now() } });
    else if (message.cmd === 'report') process.send({ report: report() });
    else if (message.cmd === 'disconnect') process.send({ disconnected: await disconnect(message) });
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
