import { DEFAULTS, LIMITS } from '@beacon/contracts';
import { authTokens, env, platformEnv, ssrfEnv, type EnvValues } from '@beacon/platform';
import { isIP } from 'node:net';

/** proxy-addr's names for address ranges, besides addresses and CIDRs (and `none`). */
const PROXY_RANGE_NAMES = ['none', 'loopback', 'linklocal', 'uniquelocal'];

/** Why an entry of BEACON_TRUST_PROXY is not an address, a CIDR or a range name, or null. */
function proxyEntryProblem(entry: string): string | null {
  if (PROXY_RANGE_NAMES.includes(entry)) return null;
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  const maxBits = family === 6 ? 128 : 32;
  const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
  if (family !== 0 && bitsOk && extra === undefined) return null;
  return `entries must be addresses, CIDRs or one of ${PROXY_RANGE_NAMES.join(', ')}; got "${entry}"`;
}

/** registry-api's variables (seed 000's names where it has one), validated at boot. */
export const registryEnv = {
  ...platformEnv,
  BEACON_PORT: env.port({ doc: 'HTTP port of the REST API', default: 8097 }),
  BEACON_HOST: env.string({ doc: 'address to listen on', default: '0.0.0.0' }),
  BEACON_DEFAULT_TTL: env.int({
    doc: 'TTL in seconds for registrations that give none',
    default: 300,
    min: 10,
    max: 86400,
    alias: 'SERVICE_REGISTRATION_TTL_SECONDS',
  }),
  BEACON_HEALTH_CHECK_INTERVAL: env.int({
    doc: 'seconds between health checks for registrations that set a check but no health_check_interval (seed 004 registrations never set one)',
    default: DEFAULTS.healthCheckInterval,
    min: LIMITS.healthCheckInterval.min,
    max: LIMITS.healthCheckInterval.max,
    alias: 'HEALTH_CHECK_INTERVAL_SECONDS',
  }),
  BEACON_HEALTH_CHECK_TIMEOUT: env.int({
    doc: 'seconds a health check may take, for registrations that set a check but no health_check_timeout',
    default: DEFAULTS.healthCheckTimeout,
    min: LIMITS.healthCheckTimeout.min,
    max: LIMITS.healthCheckTimeout.max,
    alias: 'HEALTH_CHECK_TIMEOUT_SECONDS',
  }),
  CORS_ORIGINS: env.list({
    doc: 'origins whose pages may call the API (CORS): * or a comma-separated list; empty (the default): same origin only',
    default: [],
  }),
  BEACON_STORE: env.oneOf(['auto', 'sqlite', 'mongodb'], {
    doc: 'catalog store: sqlite (embedded, one replica) or mongodb; auto picks mongodb when BEACON_MONGODB_URL is set',
    default: 'auto',
  }),
  BEACON_MONGODB_URL: env.optionalString({ doc: 'MongoDB connection string (production store, many replicas)' }),
  BEACON_SQLITE_PATH: env.string({ doc: 'file of the embedded store', default: './data/beacon.db' }),
  BEACON_SQLITE_SYNCHRONOUS: env.oneOf(['normal', 'full'], {
    doc: 'full: an acknowledged write survives a crash of the process and a power cut or kernel crash (fsync of the WAL at each commit); normal: survives a crash of the process, but a power cut may lose the last acknowledged writes (never corrupts)',
    default: 'full',
  }),
  BEACON_AUTH_TOKEN: authTokens('bearer token(s), comma-separated; when set, mutations need one'),
  BEACON_AUTH_READS: env.bool({ doc: 'require the token for reads too', default: false }),
  CRITICAL_LOAD_THRESHOLD: env.number({
    doc: 'reported load (0–1, seed 004) at which a critical_load event fires and an instance leaves /v1/discovery/.../healthy',
    default: 0.8,
    min: 0,
    max: 1,
  }),
  BEACON_SNAPSHOT_PAGE_BYTES: env.int({
    doc: 'upper bound of one beacon.registry.snapshot reply (stay under NATS max_payload)',
    default: 512 * 1024,
    min: 16 * 1024,
  }),
  // Limits (issue 13): what any client can make the registry hold or do. 0 turns a limit off.
  BEACON_MAX_SERVICES: env.int({
    doc: 'services the catalog holds at most, expired ones included until purged: a new registration beyond it gets 429 (re-registrations and heartbeats still work); 0: no limit',
    default: 20_000,
    min: 0,
  }),
  // Tombstones: an operator's DELETE is remembered, so the deleted service's next heartbeat gets 410, not 404 and a re-registration.
  BEACON_TOMBSTONE_TTL: env.duration({
    doc: 'how long a service deleted by DELETE /api/v1/services/{id} (or /v1/discovery/unregister) is remembered: its heartbeats get 410 Gone meanwhile, then 404 as for any unknown id (seconds or 30m/24h/7d); 0: no tombstones',
    default: 86400,
  }),
  BEACON_TOMBSTONE_MAX: env.int({
    doc: 'tombstones kept at most: past it the oldest are dropped (their heartbeats then get 404); 0: no limit',
    default: 100_000,
    min: 0,
  }),
  BEACON_OUTBOX_MAX_EVENTS: env.int({
    doc: 'events the embedded store keeps waiting for JetStream at most: past it the oldest are dropped, counted in beacon_outbox_dropped_total, and consumers catch up by their periodic resync; 0: no limit',
    default: 500_000,
    min: 0,
  }),
  BEACON_MAX_TAGS: env.int({
    doc: `tags one service may have (at most ${LIMITS.tags.maxCount}, each up to ${LIMITS.tags.maxLength} characters)`,
    default: LIMITS.tags.maxCount,
    min: 0,
    max: LIMITS.tags.maxCount,
  }),
  BEACON_MAX_METADATA_KEYS: env.int({
    doc: `metadata keys one service may have (at most ${LIMITS.metadata.maxKeys}; keys up to ${LIMITS.metadata.maxKeyLength} characters, values up to ${LIMITS.metadata.maxValueLength})`,
    default: LIMITS.metadata.maxKeys,
    min: 0,
    max: LIMITS.metadata.maxKeys,
  }),
  BEACON_REGISTRATIONS_PER_SECOND: env.int({
    doc: 'registrations (POST /api/v1/services/register, /v1/discovery/register) one client may send per second before getting 429; heartbeats are never limited; 0: no limit',
    default: 50,
    min: 0,
  }),
  BEACON_ON_DEMAND_CHECKS_PER_MINUTE: env.int({
    doc: 'on-demand health checks (POST /api/v1/services/{id}/health-check) one client may ask for per minute before getting 429; 0: no limit',
    default: 30,
    min: 0,
  }),
  BEACON_IMPORT_MAX_BYTES: env.int({
    doc: 'largest body POST /api/v1/import accepts (an export of the whole catalog; other routes keep 64 KiB)',
    default: 256 * 1024 * 1024,
    min: 64 * 1024,
  }),
  BEACON_TRUST_PROXY: env.list({
    each: proxyEntryProblem,
    doc: 'reverse proxies whose X-Forwarded-For names the client (the rate limits count per client): addresses, CIDRs or loopback, linklocal, uniquelocal; none: trust no header',
    default: ['loopback'],
  }),
  BEACON_MONGODB_WRITE_CONCERN: env.string({
    doc: 'MongoDB members that must have a write before it is acknowledged: majority or a number',
    default: 'majority',
    pattern: /^(?:majority|[1-9]\d?)$/,
    patternHint: 'majority or a number of members (1–99)',
  }),
  BEACON_MONGODB_JOURNAL: env.bool({
    doc: 'MongoDB acknowledges a write only once it is in the on-disk journal (j: true), as SQLite does',
    default: true,
  }),
  // Webhooks: their URLs are vetted by the same SSRF policy as health-prober's checks.
  ...ssrfEnv,
  BEACON_MAX_WEBHOOKS: env.int({
    doc: 'webhooks registry-api holds at most: creating one beyond it gets 429; 0: no limit',
    default: 1000,
    min: 0,
  }),
  BEACON_WEBHOOK_LOG_PER_WEBHOOK: env.int({
    doc: "deliveries kept in each webhook's log (GET /api/v1/webhooks/{id}/deliveries), the newest; older ones are removed",
    default: 200,
    min: 1,
    max: 100_000,
  }),
  // Monitoring: incidents, uptime history, the status page.
  BEACON_INCIDENT_REPEAT_INTERVAL: env.duration({
    doc: 'an open, unacknowledged incident sends an incident.reminder event this often (webhooks on incident_opened get it): seconds or 30s/5m/1h; 0: no reminders',
    default: 3600,
  }),
  BEACON_INCIDENT_RETENTION: env.duration({
    doc: 'resolved incidents are kept this long (seconds or 1h/7d/90d)',
    default: 90 * 86400,
    min: 3600,
  }),
  BEACON_PINGS_PER_SERVICE: env.int({
    doc: 'raw check results (pings) kept per service at most; GET /services/{id}/pings reads them',
    default: 1000,
    min: 100,
    max: 100_000,
  }),
  BEACON_PINGS_RETENTION: env.duration({
    doc: 'raw check results (pings) are kept this long at most (seconds or 1h/7d)',
    default: 7 * 86400,
    min: 3600,
  }),
  BEACON_UPTIME_RETENTION: env.duration({
    doc: 'uptime windows (5-minute availability and latency) are kept this long (seconds or 30d/90d)',
    default: 90 * 86400,
    min: 86400,
  }),
  BEACON_UPTIME_WINDOW_SECONDS: env.int({
    doc: 'length of an uptime window: 300 (5 minutes) is what the dashboard and status page expect; shorter only for tests that need windows to close quickly',
    default: 300,
    min: 1,
    max: 3600,
  }),
  BEACON_STATUS_PAGE: env.oneOf(['public', 'all', 'off'], {
    doc: 'GET /api/v1/status-page (the page at /status) shows services tagged public, or all services, or is off (404)',
    default: 'public',
  }),
  BEACON_STATUS_PAGE_TITLE: env.string({ doc: 'title of the status page', default: 'Status' }),
};

export type RegistryEnv = EnvValues<typeof registryEnv>;

export const REGISTRY_ENV = Symbol('REGISTRY_ENV');
