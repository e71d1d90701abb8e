/**
 * The embedded store's file. The catalog is served from memory (`CatalogIndex`); SQLite
 * is its durable copy, so each record is one JSON document keyed by id: a write touches
 * one row and the revision counter, a few pages of WAL, nothing else.
 */
export const SCHEMA_VERSION = 2;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('schema_version', ${SCHEMA_VERSION});

CREATE TABLE IF NOT EXISTS service_docs (
  service_id TEXT PRIMARY KEY,
  doc        TEXT NOT NULL
) WITHOUT ROWID;
`;
