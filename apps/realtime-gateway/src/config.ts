import { authTokens, catalogViewEnv, env, platformEnv, ssrfEnv, type EnvValues } from '@beacon/platform';

/** realtime-gateway's variables, validated at boot. */
export const gatewayEnv = {
  ...platformEnv,
  ...catalogViewEnv,
  HTTP_PORT: env.port({ doc: 'port of the WebSocket, SSE, dashboard, /health, /ready and /metrics', default: 8098 }),
  HTTP_HOST: env.string({ doc: 'address to listen on', default: '0.0.0.0' }),
  BEACON_AUTH_TOKEN: authTokens('bearer token(s), comma-separated; when set, WebSocket and SSE clients need one'),
  CORS_ORIGINS: env.list({
    doc: 'origins whose pages may open the WebSocket and SSE streams: * or a comma-separated list; empty (the default): same origin only',
    default: [],
  }),
  BEACON_PUBLIC_API_URL: env.string({
    doc: "registry-api's URL as the dashboard's browser reaches it; empty: the same origin (behind the gateway)",
    default: '',
  }),
  WS_PING_INTERVAL: env.int({
    doc: 'seconds between pings; a client silent for a whole interval is dropped',
    default: 30,
    min: 1,
    max: 3600,
  }),
  WS_MAX_BUFFERED_BYTES: env.int({
    doc: 'bytes waiting to be sent to one client before it is dropped as too slow (close code 1013)',
    default: 1024 * 1024,
    min: 16 * 1024,
  }),
  GATEWAY_MAX_CLIENTS: env.int({
    doc: 'WebSocket and SSE clients connected at once, in all; more are refused with 503 before the upgrade (each costs a file descriptor and ~20 KB)',
    default: 10_000,
    min: 1,
  }),
  GATEWAY_MAX_CLIENTS_PER_ADDRESS: env.int({
    doc: 'WebSocket and SSE clients connected at once from one address (behind nginx on this host: the X-Forwarded-For address); more get 429; 0: no cap',
    default: 1000,
    min: 0,
  }),
  SSE_KEEPALIVE_INTERVAL: env.int({ doc: 'seconds between SSE keepalive comments', default: 15, min: 1, max: 3600 }),
  GATEWAY_REPLAY_EVENTS: env.int({
    doc: 'recent events kept in memory for resuming clients (older ones come from JetStream)',
    default: 10_000,
    min: 100,
  }),
  GATEWAY_REPLAY_BYTES: env.int({
    doc: 'size of the encoded events the replay ring may hold, besides their count; also what one client may fall behind while its snapshot or replay is sent',
    default: 16 * 1024 * 1024,
    min: 64 * 1024,
  }),
  GATEWAY_MAX_REPLAY: env.int({
    doc: 'events one resume may replay; a client further behind is told to resync',
    default: 100_000,
    min: 100,
  }),
  // Webhooks: the gateway delivers them (see src/webhooks), under the same address policy as health checks.
  ...ssrfEnv,
  BEACON_WEBHOOK_CONCURRENCY: env.int({
    doc: 'webhook POSTs in flight at once in this gateway (a POST unanswered after 2 s stops counting, and its webhook then gets one at a time); further deliveries wait in the BEACON_WEBHOOKS queue',
    default: 16,
    min: 1,
    max: 1024,
  }),
  BEACON_WEBHOOK_TIMEOUT: env.duration({
    doc: 'how long one webhook POST may take before it counts as failed (and is retried): seconds or 30s/2m',
    default: 10,
    min: 1,
    max: 120,
  }),
  BEACON_WEBHOOK_RETRY_MAX_DELAY: env.duration({
    doc: 'longest wait between two tries of one delivery (the wait starts at 1 s and doubles): seconds or 30s/5m/1h',
    default: 3600,
    min: 1,
  }),
  BEACON_WEBHOOK_RETRY_FOR: env.duration({
    doc: 'how long after its event a delivery is still retried (seconds or 1h/24h/7d); past it the delivery is recorded failed (also the age limit of the queue)',
    default: 86_400,
    min: 10,
  }),
  BEACON_WEBHOOK_QUEUE_MAX_BYTES: env.int({
    doc: 'size limit of the BEACON_WEBHOOKS work queue (JetStream file storage); when full, events wait in BEACON_EVENTS until there is room',
    default: 64 * 1024 * 1024,
    min: 1024 * 1024,
  }),
};

export type GatewayEnv = EnvValues<typeof gatewayEnv>;

export const GATEWAY_ENV = Symbol('GATEWAY_ENV');
