// How the catalog is ordered and grouped: pure functions of a row's service and status,
// so the table can keep its rows in place and move only the one that changed.

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
const text = (a, b) => collator.compare(a ?? '', b ?? '');

/**
 * A row's problem rank, lower is worse: an open incident first, then expired, unhealthy,
 * failing or degraded health, paused (inactive), health not yet known, and healthy last.
 */
export function severity(row) {
  const health = row.service.health ?? 'unknown';
  let rank = 6;
  if (row.status === 'expired') rank = 0;
  else if (row.status === 'unhealthy') rank = 1;
  else if (health === 'unhealthy') rank = 2;
  else if (health === 'degraded') rank = 3;
  else if (row.status === 'inactive') rank = 4;
  else if (health === 'unknown') rank = 5;
  return (row.incident ? 0 : 10) + rank;
}

/** Missing numbers sort last in either direction. */
function numeric(a, b, dir) {
  const aKnown = Number.isFinite(a);
  const bKnown = Number.isFinite(b);
  if (!aKnown || !bKnown) return aKnown === bKnown ? 0 : aKnown ? -1 : 1;
  return (a - b) * dir;
}

/** The stable tie-break: name, then endpoint, then id, so equal keys never swap. */
function byName(a, b) {
  return (
    text(a.service.name, b.service.name) ||
    text(a.service.host, b.service.host) ||
    a.service.port - b.service.port ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

const KEYS = {
  name: (a, b, dir) => byName(a, b) * dir,
  problems: (a, b) => severity(a) - severity(b),
  type: (a, b, dir) => text(a.service.type, b.service.type) * dir,
  endpoint: (a, b, dir) => (text(a.service.host, b.service.host) || a.service.port - b.service.port) * dir,
  status: (a, b, dir) => text(a.status, b.status) * dir,
  health: (a, b, dir) => text(a.service.health ?? 'unknown', b.service.health ?? 'unknown') * dir,
  uptime: (a, b, dir) => numeric(a.uptime, b.uptime, dir),
  heartbeat: (a, b, dir) => numeric(a.heartbeatMs, b.heartbeatMs, -dir),
  expiry: (a, b, dir) => numeric(a.expiresMs, b.expiresMs, dir),
};

export const SORT_KEYS = Object.keys(KEYS);
export const GROUPS = ['type', 'tag', 'host'];

/**
 * The group a row belongs to. A service with several tags is grouped under its first one
 * (each row appears once); "untagged" otherwise.
 */
export function groupOf(row, group) {
  if (group === 'type') return row.service.type || '—';
  if (group === 'host') return row.service.host || '—';
  if (group === 'tag') return (Array.isArray(row.service.tags) && row.service.tags[0]) || 'untagged';
  return '';
}

/** Groups in reading order; names equal but for case stay apart, so each group is one run of rows. */
function byGroup(a, b) {
  return text(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A compare function for rows: group first, then the key, then the name. `dir` 1 ascending, -1 descending. */
export function comparator({ key, dir, group }) {
  const byKey = KEYS[key] ?? KEYS.name;
  return (a, b) => (group ? byGroup(groupOf(a, group), groupOf(b, group)) : 0) || byKey(a, b, dir) || byName(a, b);
}
