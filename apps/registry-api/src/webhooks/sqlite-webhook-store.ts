import type { DeliveryStatus, WebhookDelivery, WebhookFormat, WebhookTarget } from '@beacon/contracts';
import type { Database, Statement } from 'better-sqlite3';
import type { DeliveryQuery, WebhookPage, WebhookStore } from './webhook-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhooks (
  webhook_id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  format TEXT NOT NULL,
  service_id TEXT,
  type TEXT,
  tags TEXT NOT NULL,
  description TEXT,
  secret TEXT,
  enabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_by_created ON webhooks (created_at, webhook_id);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  webhook_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  status_code INTEGER,
  last_error TEXT,
  latency_ms REAL,
  event_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, delivery_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_newest ON webhook_deliveries (webhook_id, updated_at);
`;

interface WebhookRow {
  webhook_id: string;
  url: string;
  events: string;
  format: string;
  service_id: string | null;
  type: string | null;
  tags: string;
  description: string | null;
  secret: string | null;
  enabled: number;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  webhook_id: string;
  delivery_id: string;
  event_type: string;
  status: string;
  attempts: number;
  status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  event_at: number;
  updated_at: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function toWebhook(row: WebhookRow): WebhookTarget {
  return {
    webhook_id: row.webhook_id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookTarget['events'],
    format: row.format as WebhookFormat,
    service_id: row.service_id,
    type: row.type,
    tags: JSON.parse(row.tags) as string[],
    description: row.description,
    secret: row.secret,
    enabled: row.enabled === 1,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function toRow(webhook: WebhookTarget): WebhookRow {
  return {
    ...webhook,
    events: JSON.stringify(webhook.events),
    tags: JSON.stringify(webhook.tags),
    enabled: webhook.enabled ? 1 : 0,
    created_at: Date.parse(webhook.created_at),
    updated_at: Date.parse(webhook.updated_at),
  };
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    delivery_id: row.delivery_id,
    webhook_id: row.webhook_id,
    event_type: row.event_type as WebhookDelivery['event_type'],
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    status_code: row.status_code,
    last_error: row.last_error,
    latency_ms: row.latency_ms,
    event_at: iso(row.event_at),
    updated_at: iso(row.updated_at),
  };
}

/**
 * Webhooks in the catalog's SQLite file, on the store's one connection. Every call is
 * synchronous (better-sqlite3), so nothing here interleaves with the catalog's own
 * transactions.
 */
export class SqliteWebhookStore implements WebhookStore {
  private statements!: {
    page: Statement<[number, number]>;
    count: Statement<[]>;
    all: Statement<[]>;
    get: Statement<[string]>;
    insert: Statement<[WebhookRow]>;
    insertUnder: Statement<[WebhookRow & { max: number }]>;
    replace: Statement<[WebhookRow]>;
    delete: Statement<[string]>;
    deleteLog: Statement<[string]>;
    upsertDelivery: Statement<[DeliveryRow]>;
    trim: Statement<[{ webhook_id: string; keep: number }]>;
    log: Statement<[string, number]>;
    logByStatus: Statement<[string, string, number]>;
  };

  constructor(private readonly db: Database) {}

  async open(): Promise<void> {
    this.db.exec(SCHEMA);
    const columns = 'webhook_id, url, events, format, service_id, type, tags, description, secret, enabled, created_at, updated_at';
    const values =
      '@webhook_id, @url, @events, @format, @service_id, @type, @tags, @description, @secret, @enabled, @created_at, @updated_at';
    this.statements = {
      page: this.db.prepare(`SELECT * FROM webhooks ORDER BY created_at, webhook_id LIMIT ? OFFSET ?`),
      count: this.db.prepare(`SELECT COUNT(*) AS n FROM webhooks`),
      all: this.db.prepare(`SELECT * FROM webhooks ORDER BY created_at, webhook_id`),
      get: this.db.prepare(`SELECT * FROM webhooks WHERE webhook_id = ?`),
      insert: this.db.prepare(`INSERT INTO webhooks (${columns}) VALUES (${values})`),
      // The count and the insert in one statement: two requests cannot both take the last place.
      insertUnder: this.db.prepare(`INSERT INTO webhooks (${columns}) SELECT ${values} WHERE (SELECT COUNT(*) FROM webhooks) < @max`),
      replace: this.db.prepare(
        `UPDATE webhooks SET url = @url, events = @events, format = @format, service_id = @service_id, type = @type,
           tags = @tags, description = @description, secret = @secret, enabled = @enabled, updated_at = @updated_at
         WHERE webhook_id = @webhook_id`,
      ),
      delete: this.db.prepare(`DELETE FROM webhooks WHERE webhook_id = ?`),
      deleteLog: this.db.prepare(`DELETE FROM webhook_deliveries WHERE webhook_id = ?`),
      // Only for a webhook that exists (a late report must not bring a deleted one's log back),
      // and never an older attempt over a newer one (reports from replicas can cross).
      upsertDelivery: this.db.prepare(
        `INSERT INTO webhook_deliveries
           (webhook_id, delivery_id, event_type, status, attempts, status_code, last_error, latency_ms, event_at, updated_at)
         SELECT @webhook_id, @delivery_id, @event_type, @status, @attempts, @status_code, @last_error, @latency_ms, @event_at, @updated_at
         WHERE EXISTS (SELECT 1 FROM webhooks WHERE webhook_id = @webhook_id)
         ON CONFLICT (webhook_id, delivery_id) DO UPDATE SET
           event_type = excluded.event_type, status = excluded.status, attempts = excluded.attempts,
           status_code = excluded.status_code, last_error = excluded.last_error, latency_ms = excluded.latency_ms,
           event_at = excluded.event_at, updated_at = excluded.updated_at
         WHERE excluded.updated_at >= webhook_deliveries.updated_at`,
      ),
      trim: this.db.prepare(
        `DELETE FROM webhook_deliveries WHERE webhook_id = @webhook_id AND delivery_id IN (
           SELECT delivery_id FROM webhook_deliveries WHERE webhook_id = @webhook_id
           ORDER BY updated_at DESC, delivery_id DESC LIMIT -1 OFFSET @keep)`,
      ),
      log: this.db.prepare(`SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY updated_at DESC, delivery_id DESC LIMIT ?`),
      logByStatus: this.db.prepare(
        `SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = ? ORDER BY updated_at DESC, delivery_id DESC LIMIT ?`,
      ),
    };
  }

  async list(page: { limit: number; skip: number }): Promise<WebhookPage> {
    const rows = this.statements.page.all(page.limit, page.skip) as WebhookRow[];
    const { n } = this.statements.count.get() as { n: number };
    return { webhooks: rows.map(toWebhook), total: n };
  }

  async all(): Promise<WebhookTarget[]> {
    return (this.statements.all.all() as WebhookRow[]).map(toWebhook);
  }

  async get(webhookId: string): Promise<WebhookTarget | null> {
    const row = this.statements.get.get(webhookId) as WebhookRow | undefined;
    return row ? toWebhook(row) : null;
  }

  async insert(webhook: WebhookTarget, max: number): Promise<boolean> {
    const row = toRow(webhook);
    const result = max > 0 ? this.statements.insertUnder.run({ ...row, max }) : this.statements.insert.run(row);
    return result.changes === 1;
  }

  async replace(webhook: WebhookTarget): Promise<boolean> {
    return this.statements.replace.run(toRow(webhook)).changes === 1;
  }

  async delete(webhookId: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.statements.deleteLog.run(webhookId);
      return this.statements.delete.run(webhookId).changes === 1;
    })();
  }

  async recordDeliveries(deliveries: readonly WebhookDelivery[], keep: number): Promise<number> {
    return this.db.transaction(() => {
      let applied = 0;
      const touched = new Set<string>();
      for (const delivery of deliveries) {
        const changes = this.statements.upsertDelivery.run({
          ...delivery,
          event_at: Date.parse(delivery.event_at),
          updated_at: Date.parse(delivery.updated_at),
        }).changes;
        if (changes > 0) {
          applied += 1;
          touched.add(delivery.webhook_id);
        }
      }
      for (const webhookId of touched) this.statements.trim.run({ webhook_id: webhookId, keep });
      return applied;
    })();
  }

  async deliveries(webhookId: string, query: DeliveryQuery): Promise<WebhookDelivery[]> {
    const rows =
      query.status === undefined
        ? this.statements.log.all(webhookId, query.limit)
        : this.statements.logByStatus.all(webhookId, query.status, query.limit);
    return (rows as DeliveryRow[]).map(toDelivery);
  }
}
