import { authTokens, catalogViewEnv, env, platformEnv, type EnvValues } from '@beacon/platform';

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
};

export type GatewayEnv = EnvValues<typeof gatewayEnv>;

export const GATEWAY_ENV = Symbol('GATEWAY_ENV');
