/**
 * The benchmark's synthetic catalog. Record n (0-based) is the same for Beacon (loaded
 * through its API) and for the bare server (held in memory), so both filters see the
 * same data and must report the same total.
 *
 * Spread (independent of one another over any 100 consecutive n):
 *   type   http 60%, grpc 20%, tcp 20%      (floor(n/20) % 5)
 *   tags   ["bench", "zone-<n%5>"]
 *   rack   metadata.rack = r<floor(n/5)%4>
 * so `type=http&tags=zone-1&metadata.rack=r3` matches 10,000 x 3/5 x 1/5 x 1/4 = 300.
 */

const TYPES = ['http', 'http', 'http', 'grpc', 'tcp'];

export const FILTER_QUERY = 'type=http&tags=zone-1&metadata.rack=r3&limit=50';

/** The registration body for record n (what a real client sends). */
export function serviceInput(n, prefix = 'svc') {
  return {
    name: `${prefix}-${n}`,
    type: TYPES[Math.floor(n / 20) % TYPES.length],
    host: `10.0.${(n >> 8) & 255}.${n & 255}`,
    port: 8080,
    tags: ['bench', `zone-${n % 5}`],
    metadata: { env: 'bench', rack: `r${Math.floor(n / 5) % 4}` },
    ttl: 300,
  };
}

const MDNS = { http: '_http._tcp', grpc: '_grpc._tcp', tcp: '_tcp._tcp' };

/**
 * Record n as Beacon returns it on the wire (same fields, same size), for the bare
 * server's in-memory list: the bare filter serializes as many bytes as Beacon does.
 */
export function wireRecord(n, now = Date.now()) {
  const input = serviceInput(n);
  const iso = (ms) => new Date(ms).toISOString();
  return {
    service_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    ...input,
    protocol: 'http',
    version: null,
    node_id: null,
    instance_id: null,
    status: 'active',
    health: 'unknown',
    expires_at: iso(now + input.ttl * 1000),
    last_heartbeat: iso(now),
    created_at: iso(now),
    updated_at: iso(now),
    health_check_url: null,
    health_check_tcp: null,
    health_check_interval: 60,
    health_check_timeout: 5,
    health_check_retries: 3,
    health_check_rise: 1,
    last_health_check: null,
    consecutive_health_failures: 0,
    load: null,
    mdns_service_type: MDNS[input.type] ?? '_http._tcp',
    mdns_txt_records: {},
    revision: n + 1,
  };
}

/** The filter both servers apply, from a parsed query string (Fastify's `request.query`). */
export function parseFilter(query) {
  const tags =
    query.tags === undefined
      ? []
      : []
          .concat(query.tags)
          .flatMap((t) => String(t).split(','))
          .filter(Boolean);
  const metadata = [];
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith('metadata.')) metadata.push([key.slice('metadata.'.length), String(value)]);
  }
  const limit = Math.min(Math.max(Number(query.limit ?? 50) || 50, 1), 100);
  const skip = Math.max(Number(query.skip ?? 0) || 0, 0);
  return { type: query.type, protocol: query.protocol, name: query.name, tags, metadata, limit, skip };
}

/** Filters `records` in order; returns the first page and the total count. */
export function filterRecords(records, filter) {
  const { type, protocol, name, tags, metadata, limit, skip } = filter;
  const page = [];
  let total = 0;
  for (const record of records) {
    if (type !== undefined && record.type !== type) continue;
    if (protocol !== undefined && record.protocol !== protocol) continue;
    if (name !== undefined && record.name !== name) continue;
    let ok = true;
    for (const tag of tags)
      if (!record.tags.includes(tag)) {
        ok = false;
        break;
      }
    if (!ok) continue;
    for (const [key, value] of metadata)
      if (record.metadata[key] !== value) {
        ok = false;
        break;
      }
    if (!ok) continue;
    if (total >= skip && page.length < limit) page.push(record);
    total += 1;
  }
  return { services: page, total };
}

/**
 * The `scale` section's catalog: 5 types, 20 tags (three per service), and metadata of a
 * realistic size. Record n:
 *   type     http, mqtt, database, cache, iot     (n % 5)
 *   tags     tag-<floor(n/5)%20>, tag-<floor(n/100)%20>, tag-<floor(n/3)*7%20> (deduplicated)
 *   metadata env, rack r<floor(n/2000)%8>, owner team-<n%12>, a description
 * `SCALE_FILTER_QUERY` matches 386 of the first 100,000 (about 1/5 x 3/20 x 1/8).
 */
const SCALE_TYPES = ['http', 'mqtt', 'database', 'cache', 'iot'];

export const SCALE_FILTER_QUERY = 'type=http&tags=tag-5&metadata.rack=r3&limit=50';

export function scaleServiceInput(n) {
  return {
    name: `scale-${n}`,
    type: SCALE_TYPES[n % SCALE_TYPES.length],
    host: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    port: 1024 + (n % 50_000),
    tags: [...new Set([`tag-${Math.floor(n / 5) % 20}`, `tag-${Math.floor(n / 100) % 20}`, `tag-${(Math.floor(n / 3) * 7) % 20}`])],
    metadata: {
      env: 'bench',
      rack: `r${Math.floor(n / 2000) % 8}`,
      owner: `team-${n % 12}`,
      description: `scale benchmark service number ${n}`,
    },
    version: `1.${n % 10}.0`,
    ttl: 3600,
  };
}
