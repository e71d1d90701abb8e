/**
 * The embedded store's file. The catalog is served from memory (`CatalogIndex`); SQLite
 * is its durable copy: one JSON document per service under an integer rowid (the store
 * keeps id → rowid in memory), and the revision counter. A write touches its row and
 * the counter, a few pages of WAL, nothing else.
 */
export const SCHEMA_VERSION = 8;

/** The oldest version this code opens (and brings up to date by running SCHEMA again). */
export const OLDEST_SUPPORTED_VERSION = 3;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('schema_version', ${SCHEMA_VERSION});
-- Names this store's outbox entries for JetStream's duplicate detection: a new file, a new epoch.
INSERT OR IGNORE INTO meta (key, value) VALUES ('outbox_epoch', abs(random() % 281474976710656));

CREATE TABLE IF NOT EXISTS service_docs (
  rowid INTEGER PRIMARY KEY,
  doc   TEXT NOT NULL
);

-- Check results (pings, version 7): a fixed ring of slots per service series (the small
-- integer of uptime_series; slot = seq % BEACON_PINGS_PER_SERVICE, seq counting the series'
-- results in the order they were stored), so it never grows past that many rows per service
-- however long checks run. checked_at in epoch ms; v and x: the result's values
-- (check-codec.ts). About 45 bytes a result with the index by second, which the uptime
-- aggregation and the retention trim read by.
-- Versions up to 6 kept them in health_checks (by service id, a JSON doc): moved at open.
CREATE TABLE IF NOT EXISTS pings (
  sid        INTEGER NOT NULL,
  slot       INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  checked_at INTEGER NOT NULL,
  v          INTEGER,
  x          TEXT,
  PRIMARY KEY (sid, slot)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pings_by_second ON pings (checked_at / 1000);

-- The transactional outbox: each change's events, written in the change's transaction and
-- removed once JetStream has acknowledged them. AUTOINCREMENT: a seq is never reused, even
-- after the outbox empties, since (epoch, seq) is the event's message id.
CREATE TABLE IF NOT EXISTS outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  boot       INTEGER NOT NULL,
  service_id TEXT NOT NULL,
  subject    TEXT NOT NULL,
  data       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Tombstones (version 8): what an operator's DELETE leaves for BEACON_TOMBSTONE_TTL, so a
-- heartbeat from the deleted service gets 410, not 404. Written in the delete's transaction;
-- doc is the tombstone as JSON; the columns are what it is looked up, purged and capped by
-- (times in epoch ms). Read from here only, never held in memory (see sqlite-tombstones.ts).
CREATE TABLE IF NOT EXISTS tombstones (
  service_id  TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  host        TEXT NOT NULL,
  port        INTEGER NOT NULL,
  instance_id TEXT,
  deleted_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  doc         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tombstones_by_expiry ON tombstones (expires_at);
CREATE INDEX IF NOT EXISTS tombstones_by_deletion ON tombstones (deleted_at);
CREATE INDEX IF NOT EXISTS tombstones_by_endpoint ON tombstones (name, host, port);
CREATE INDEX IF NOT EXISTS tombstones_by_instance ON tombstones (name, instance_id) WHERE instance_id IS NOT NULL;

-- Incidents (version 6): each the latest state its events carried, as the wire document.
-- At most one open incident per service and kind, whatever writes it.
CREATE TABLE IF NOT EXISTS incidents (
  incident_id TEXT PRIMARY KEY,
  service_id  TEXT NOT NULL,
  kind        TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  resolved_at INTEGER,
  doc         TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_open ON incidents (service_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS incidents_by_start ON incidents (started_at);
CREATE INDEX IF NOT EXISTS incidents_by_resolution ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;

-- Uptime windows, aggregated from the stored checks once closed. Each service gets a small
-- integer (its series), which its pings and windows are keyed by. Availability is kept in
-- 1/10,000 (only without checks: otherwise it is (checks - failures) / checks), response
-- times in 0.1 ms, none without a timed check.
CREATE TABLE IF NOT EXISTS uptime_series (
  sid        INTEGER PRIMARY KEY,
  service_id TEXT NOT NULL UNIQUE
);
-- Windows (version 7): one row per series and 6 hours, its windows packed (uptime-blocks.ts),
-- about 7 bytes a window. Version 6 kept a row per window in table uptime (never released):
-- dropped at open, and its windows aggregated again from the pings that are still kept.
CREATE TABLE IF NOT EXISTS uptime_blocks (
  sid   INTEGER NOT NULL,
  block INTEGER NOT NULL,
  w     BLOB NOT NULL,
  PRIMARY KEY (sid, block)
) WITHOUT ROWID;
-- An earlier draft of version 6 kept windows by service id; nothing was released with it.
DROP TABLE IF EXISTS uptime_windows;
UPDATE meta SET value = 0 WHERE key = 'uptime_aggregated_until' AND EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'uptime');
DROP TABLE IF EXISTS uptime;
INSERT OR IGNORE INTO meta (key, value) VALUES ('uptime_aggregated_until', 0);
`;
