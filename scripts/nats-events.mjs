#!/usr/bin/env node
// `pnpm events`: follow Beacon's NATS events from a terminal with nothing but what Beacon
// installs (the `nats` client library of libs/platform), one JSON line per message.
// The NATS CLI (natscli) does the same and more, but nothing here installs it.
// It connects as the read-only identity beacon-reader, which may only subscribe to
// beacon.events.>; --replay reads the stream, which only Beacon's apps may, so on the local
// stack it connects as realtime-gateway (the app that reads the stream) instead.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { identityEnv, READER_IDENTITY } from './lib/nats-auth.mjs';
import { natsModule, REPO_ROOT } from './lib/tools.mjs';

const { connect, StringCodec } = natsModule();

const STREAM = 'BEACON_EVENTS';
/** Who replays on the local stack: the app that reads the stream (see libs/contracts nats-permissions.ts). */
const REPLAY_IDENTITY = 'realtime-gateway';
const USAGE = `Usage: pnpm events [SUBJECT] [--replay] [--server URL] [--user NAME --password-file FILE]

Prints every message on SUBJECT (default 'beacon.events.>') as one JSON line:
{"subject": ..., "seq": ... (with --replay), "data": <the event>}. Ctrl-C stops.

  SUBJECT        a NATS subject, wildcards allowed: 'beacon.events.service.*'
  --replay       what stream ${STREAM} kept (24 h by default), then new events as they come;
                 the stream holds catalog changes and role changes, not renewals or probe results
  --server URL   the NATS server (default: $NATS_URL, else nats://127.0.0.1:4222)
  --user NAME    the NATS user (default: $NATS_USER; for the local stack, ${READER_IDENTITY},
                 or with --replay ${REPLAY_IDENTITY}: ${READER_IDENTITY} may not read the stream)
  --password-file FILE
                 its password (default: $NATS_PASSWORD_FILE; for the local stack, the one
                 ./beacon.sh start wrote in $BEACON_DATA_DIR/nats/secrets/<user>.password)
  -h, --help     show this text
`;

function commandLine() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        replay: { type: 'boolean' },
        server: { type: 'string' },
        user: { type: 'string' },
        'password-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
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

/** Who to connect as: given, or the local stack's reader (or replayer) when the launcher wrote its password. */
function credentials() {
  const given = { user: values.user ?? process.env.NATS_USER, file: values['password-file'] ?? process.env.NATS_PASSWORD_FILE };
  const local = identityEnv(
    join(resolve(REPO_ROOT, process.env.BEACON_DATA_DIR ?? 'data'), 'nats'),
    values.replay ? REPLAY_IDENTITY : READER_IDENTITY,
  );
  const user = given.user ?? (given.file ? undefined : local?.NATS_USER);
  const file = given.file ?? (given.user ? undefined : local?.NATS_PASSWORD_FILE);
  if (!user && !file) return {};
  if (!user || !file) {
    process.stderr.write('events: --user and --password-file go together (or NATS_USER and NATS_PASSWORD_FILE)\n');
    process.exit(2);
  }
  try {
    // Its own inbox: the only one an identity's permissions let it read replies on.
    return { user, pass: readFileSync(file, 'utf8').trim(), inboxPrefix: `_INBOX.${user}` };
  } catch (error) {
    process.stderr.write(`events: cannot read the password file ${file} (${error.code ?? error.message})\n`);
    process.exit(2);
  }
}

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

/**
 * --replay: the stream read message by message (`STREAM.MSG.GET`: no consumer is created),
 * from the first kept to the last, then on after each new message on the subject.
 */
async function replay(nc) {
  const jsm = await nc.jetstreamManager({ checkAPI: false });
  let next = 1;
  const readOn = async () => {
    for (;;) {
      let message;
      try {
        message = await jsm.streams.getMessage(STREAM, { seq: next, next_by_subj: subject });
      } catch (error) {
        if (error.code === '404') return; // nothing newer yet
        throw error;
      }
      process.stdout.write(line(message, message.seq));
      next = message.seq + 1;
    }
  };
  // One read at a time, in order.
  let reading = Promise.resolve();
  const read = () => (reading = reading.then(readOn));
  // Subscribed before reading, so nothing stored meanwhile goes unnoticed. A live message may
  // arrive before the stream has stored it: read again shortly after too.
  const live = nc.subscribe(subject);
  await read();
  for await (const message of live) {
    void message;
    void read();
    for (const ms of [100, 1000]) setTimeout(read, ms);
  }
}

async function follow(nc) {
  if (values.replay) return replay(nc);
  for await (const message of nc.subscribe(subject)) process.stdout.write(line(message));
}

let nc;
try {
  nc = await connect({ servers: server, name: 'beacon-events', maxReconnectAttempts: -1, ...credentials() });
} catch (error) {
  const hint =
    error.code === 'AUTHORIZATION_VIOLATION'
      ? 'the server refused the user and password (--user and --password-file)'
      : 'is Beacon running? (--server or NATS_URL)';
  process.stderr.write(`events: cannot reach NATS at ${server} (${error.message}); ${hint}\n`);
  process.exit(1);
}
process.stderr.write(`events: following ${subject} on ${server}${values.replay ? ` (replaying ${STREAM} first)` : ''}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void nc.close().then(() => process.exit(0)));
await follow(nc);
