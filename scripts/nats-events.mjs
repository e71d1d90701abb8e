#!/usr/bin/env node
// `pnpm events`: follow Beacon's NATS events from a terminal with nothing but what Beacon
// installs (the `nats` client library of libs/platform), one JSON line per message.
// The NATS CLI (natscli) does the same and more, but nothing here installs it.
import { parseArgs } from 'node:util';
import { natsModule } from './lib/tools.mjs';

const { connect, StringCodec } = natsModule();

const STREAM = 'BEACON_EVENTS';
const USAGE = `Usage: pnpm events [SUBJECT] [--replay] [--server URL]

Prints every message on SUBJECT (default 'beacon.events.>') as one JSON line:
{"subject": ..., "seq": ... (with --replay), "data": <the event>}. Ctrl-C stops.

  SUBJECT        a NATS subject, wildcards allowed: 'beacon.events.service.*'
  --replay       what stream ${STREAM} kept (24 h by default), then new events as they come;
                 the stream holds catalog changes and role changes, not renewals or probe results
  --server URL   the NATS server (default: $NATS_URL, else nats://127.0.0.1:4222)
  -h, --help     show this text
`;

function commandLine() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: { replay: { type: 'boolean' }, server: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    process.stderr.write(`events: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const { values, positionals } = commandLine();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (positionals.length > 1) {
  process.stderr.write(`events: one subject at most, got ${positionals.length}\n\n${USAGE}`);
  process.exit(2);
}
const subject = positionals[0] ?? 'beacon.events.>';
const server = values.server ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const codec = StringCodec();

/** The message as one line; a payload that is not JSON is printed as text. */
function line(message, seq) {
  const text = codec.decode(message.data);
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = text;
  }
  return `${JSON.stringify(seq === undefined ? { subject: message.subject, data } : { subject: message.subject, seq, data })}\n`;
}

async function follow(nc) {
  if (values.replay) {
    const consumer = await nc.jetstream().consumers.get(STREAM, { filterSubjects: subject });
    const messages = await consumer.consume();
    for await (const message of messages) process.stdout.write(line(message, message.seq));
    return;
  }
  for await (const message of nc.subscribe(subject)) process.stdout.write(line(message));
}

let nc;
try {
  nc = await connect({ servers: server, name: 'beacon-events', maxReconnectAttempts: -1 });
} catch (error) {
  process.stderr.write(`events: cannot reach NATS at ${server} (${error.message}); is Beacon running? (--server or NATS_URL)\n`);
  process.exit(1);
}
process.stderr.write(`events: following ${subject} on ${server}${values.replay ? ` (replaying ${STREAM} first)` : ''}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void nc.close().then(() => process.exit(0)));
await follow(nc);
