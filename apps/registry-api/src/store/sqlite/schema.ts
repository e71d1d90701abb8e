/**
 * The embedded store's schema. Filterable fields are columns; tags and metadata also
 * live in side tables keyed for lookup, so `tags=a,b` and `metadata.k=v` filters use
 * primary-key probes instead of parsing JSON per row.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('schema_version', ${SCHEMA_VERSION});

CREATE TABLE IF NOT EXISTS services (
  service_id                   TEXT PRIMARY KEY,
  name                         TEXT NOT NULL,
  type                         TEXT NOT NULL,
  host                         TEXT NOT NULL,
  port                         INTEGER NOT NULL,
  protocol                     TEXT NOT NULL,
  tags                         TEXT NOT NULL,
  metadata                     TEXT NOT NULL,
  version                      TEXT,
  node_id                      TEXT,
  instance_id                  TEXT,
  status                       TEXT NOT NULL,
  health                       TEXT NOT NULL,
  ttl                          INTEGER NOT NULL,
  expires_at                   INTEGER NOT NULL,
  last_heartbeat               INTEGER,
  created_at                   INTEGER NOT NULL,
  updated_at                   INTEGER NOT NULL,
  health_check_url             TEXT,
  health_check_tcp             TEXT,
  health_check_interval        INTEGER NOT NULL,
  health_check_timeout         INTEGER NOT NULL,
  health_check_retries         INTEGER NOT NULL,
  health_check_rise            INTEGER NOT NULL,
  last_health_check            INTEGER,
  consecutive_health_failures  INTEGER NOT NULL,
  consecutive_health_successes INTEGER NOT NULL,
  load                         REAL,
  mdns_service_type            TEXT NOT NULL,
  mdns_txt_records             TEXT NOT NULL,
  revision                     INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS services_endpoint ON services (name, host, port);
CREATE UNIQUE INDEX IF NOT EXISTS services_instance ON services (name, instance_id) WHERE instance_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS services_expires_at ON services (expires_at);
CREATE INDEX IF NOT EXISTS services_type ON services (type);
CREATE INDEX IF NOT EXISTS services_status ON services (status);
CREATE INDEX IF NOT EXISTS services_order ON services (created_at, service_id);

CREATE TABLE IF NOT EXISTS service_tags (
  tag        TEXT NOT NULL,
  service_id TEXT NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  PRIMARY KEY (tag, service_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS service_tags_by_service ON service_tags (service_id);

CREATE TABLE IF NOT EXISTS service_metadata (
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  service_id TEXT NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  PRIMARY KEY (key, value, service_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS service_metadata_by_service ON service_metadata (service_id);
`;

/** Columns in insert order; `tags`, `metadata` and `mdns_txt_records` are JSON text. */
export const COLUMNS = [
  'service_id',
  'name',
  'type',
  'host',
  'port',
  'protocol',
  'tags',
  'metadata',
  'version',
  'node_id',
  'instance_id',
  'status',
  'health',
  'ttl',
  'expires_at',
  'last_heartbeat',
  'created_at',
  'updated_at',
  'health_check_url',
  'health_check_tcp',
  'health_check_interval',
  'health_check_timeout',
  'health_check_retries',
  'health_check_rise',
  'last_health_check',
  'consecutive_health_failures',
  'consecutive_health_successes',
  'load',
  'mdns_service_type',
  'mdns_txt_records',
  'revision',
] as const;
