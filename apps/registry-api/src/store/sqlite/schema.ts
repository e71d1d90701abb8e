/**
 * The embedded store's file. The catalog is served from memory (`CatalogIndex`); SQLite
 * is its durable copy: one JSON document per service under an integer rowid (the store
 * keeps id → rowid in memory), and the revision counter. A write touches its row and
 * the counter, a few pages of WAL, nothing else.
 */
export const SCHEMA_VERSION = 3;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('schema_version', ${SCHEMA_VERSION});

CREATE TABLE IF NOT EXISTS service_docs (
  rowid INTEGER PRIMARY KEY,
  doc   TEXT NOT NULL
);
`;
