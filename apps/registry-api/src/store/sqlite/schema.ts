/**
 * The embedded store's file. The catalog is served from memory (`CatalogIndex`); SQLite
 * is its durable copy: one JSON document per service under an integer rowid (the store
 * keeps id → rowid in memory), and the revision counter. A write touches its row and
 * the counter, a few pages of WAL, nothing else.
 */
export const SCHEMA_VERSION = 5;

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

-- Check history: a fixed ring of slots per service (slot = seq % HEALTH_HISTORY.perService),
-- so it never grows past that many rows per service however long checks run.
CREATE TABLE IF NOT EXISTS health_checks (
  service_id TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  checked_at INTEGER NOT NULL,
  doc        TEXT NOT NULL,
  PRIMARY KEY (service_id, slot)
) WITHOUT ROWID;

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
`;
