import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { env, type EnvValues } from './env';

/** Variables every Beacon app reads. Apps spread this into their own schema. */
export const platformEnv = {
  NATS_URL: env.url({
    doc: 'NATS server(s), comma-separated; credentials may be in the URL',
    default: 'nats://127.0.0.1:4222',
    protocols: ['nats', 'tls', 'ws', 'wss'],
  }),
  NATS_CREDS_FILE: env.optionalString({ doc: 'NATS credentials file (.creds) for decentralized auth' }),
  // An app's own identity on a NATS server with Beacon's permissions (README "Security").
  NATS_USER: env.optionalString({ doc: "NATS user this app connects as (its identity: the app's name on Beacon's permissioned NATS)" }),
  NATS_PASSWORD_FILE: env.optionalString({ doc: "file holding NATS_USER's password (read once at start; a trailing newline is ignored)" }),
  NATS_TLS_CA: env.optionalString({ doc: 'CA certificate file to verify the NATS server' }),
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
    doc: 'log level (Python names such as WARNING and CRITICAL work too)',
    default: 'info',
    aliases: { warning: 'warn', critical: 'fatal' },
  }),
  LOG_FORMAT: env.oneOf(['json', 'pretty'], { doc: 'json for machines, pretty for people', default: 'json' }),
  LOG_HTTP: env.bool({ doc: 'log every HTTP request (access log)', default: false }),
  BEACON_EVENTS_MAX_AGE: env.int({
    doc: 'seconds the BEACON_EVENTS stream keeps events for replay',
    default: 86400,
    min: 60,
  }),
  BEACON_EVENTS_MAX_BYTES: env.int({
    doc: 'bytes the BEACON_EVENTS stream may hold (small default fits a Raspberry Pi)',
    default: 64 * 1024 * 1024,
    min: 1024 * 1024,
  }),
  // One count for every JetStream asset Beacon makes, so no part of it lives on one node of
  // a cluster: a lone R1 election bucket took the server role away with its node (issue 14).
  BEACON_JETSTREAM_REPLICAS: env.int({
    doc: 'replicas of every JetStream stream and KV bucket Beacon creates (BEACON_EVENTS, the election lease): 3 on a 3-node NATS cluster, 1 on one server',
    default: 1,
    min: 1,
    max: 5,
    alias: 'BEACON_EVENTS_REPLICAS',
  }),
  SHUTDOWN_TIMEOUT: env.int({ doc: 'seconds to finish in-flight work on SIGTERM', default: 10, min: 1, max: 300 }),
};

export type PlatformEnv = EnvValues<typeof platformEnv>;

/** Variables of apps that keep a catalog view (reaper, prober, announcer, gateway). */
export const catalogViewEnv = {
  BEACON_RESYNC_INTERVAL: env.int({
    doc: 'seconds between full resyncs of the local catalog view (besides after each NATS reconnect)',
    default: 30,
    min: 1,
    max: 86400,
  }),
};

/** A replica's default name among its peers: host, process and a random suffix (restarts get new ones). */
export function defaultMemberId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/** Variables of the apps that work in the background (reaper, prober, ...): their HTTP port and replica name. */
export function workerEnv(defaultPort: number) {
  return {
    HTTP_PORT: env.port({ doc: 'port of /health, /ready and /metrics', default: defaultPort }),
    HTTP_HOST: env.string({ doc: 'address to listen on', default: '0.0.0.0' }),
    MEMBER_ID: env.string({ doc: "this replica's name among its peers (sharding)", default: defaultMemberId() }),
  };
}
