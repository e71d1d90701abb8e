import type { DeliveryStatus, WebhookDelivery, WebhookFormat, WebhookTarget } from '@beacon/contracts';
import type { mongo } from 'mongoose';
import type { DeliveryQuery, WebhookPage, WebhookStore } from './webhook-store';

interface WebhookDocument {
  _id: string;
  url: string;
  events: WebhookTarget['events'];
  format: WebhookFormat;
  service_id: string | null;
  type: string | null;
  tags: string[];
  description: string | null;
  secret: string | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryDocument {
  webhook_id: string;
  delivery_id: string;
  event_type: WebhookDelivery['event_type'];
  status: DeliveryStatus;
  attempts: number;
  status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  event_at: Date;
  updated_at: Date;
}

const DUPLICATE_KEY = 11000;

function toWebhook(document: WebhookDocument): WebhookTarget {
  const { _id, created_at, updated_at, ...rest } = document;
  return { webhook_id: _id, ...rest, created_at: created_at.toISOString(), updated_at: updated_at.toISOString() };
}

function toDocument(webhook: WebhookTarget): WebhookDocument {
  const { webhook_id, created_at, updated_at, ...rest } = webhook;
  return { _id: webhook_id, ...rest, created_at: new Date(created_at), updated_at: new Date(updated_at) };
}

function toDelivery(document: DeliveryDocument): WebhookDelivery {
  return {
    delivery_id: document.delivery_id,
    webhook_id: document.webhook_id,
    event_type: document.event_type,
    status: document.status,
    attempts: document.attempts,
    status_code: document.status_code,
    last_error: document.last_error,
    latency_ms: document.latency_ms,
    event_at: document.event_at.toISOString(),
    updated_at: document.updated_at.toISOString(),
  };
}

/**
 * Webhooks in the catalog's MongoDB database. The webhook cap is a count before the insert:
 * replicas creating at the same moment may pass it by one each (no transaction needed for a
 * limit that bounds memory, not correctness).
 */
export class MongoWebhookStore implements WebhookStore {
  private readonly webhooks: mongo.Collection<WebhookDocument>;
  private readonly log: mongo.Collection<DeliveryDocument>;

  constructor(db: mongo.Db) {
    this.webhooks = db.collection<WebhookDocument>('webhooks');
    this.log = db.collection<DeliveryDocument>('webhook_deliveries');
  }

  async open(): Promise<void> {
    await this.webhooks.createIndex({ created_at: 1, _id: 1 });
    await this.log.createIndex({ webhook_id: 1, delivery_id: 1 }, { unique: true });
    await this.log.createIndex({ webhook_id: 1, updated_at: -1, delivery_id: -1 });
  }

  async list(page: { limit: number; skip: number }): Promise<WebhookPage> {
    const [documents, total] = await Promise.all([
      this.webhooks.find().sort({ created_at: 1, _id: 1 }).skip(page.skip).limit(page.limit).toArray(),
      this.webhooks.countDocuments(),
    ]);
    return { webhooks: documents.map(toWebhook), total };
  }

  async all(): Promise<WebhookTarget[]> {
    return (await this.webhooks.find().sort({ created_at: 1, _id: 1 }).toArray()).map(toWebhook);
  }

  async get(webhookId: string): Promise<WebhookTarget | null> {
    const document = await this.webhooks.findOne({ _id: webhookId });
    return document ? toWebhook(document) : null;
  }

  async insert(webhook: WebhookTarget, max: number): Promise<boolean> {
    if (max > 0 && (await this.webhooks.countDocuments()) >= max) return false;
    await this.webhooks.insertOne(toDocument(webhook));
    return true;
  }

  async replace(webhook: WebhookTarget): Promise<boolean> {
    const { _id, created_at: _created, ...changes } = toDocument(webhook);
    const result = await this.webhooks.updateOne({ _id }, { $set: changes });
    return result.matchedCount === 1;
  }

  async delete(webhookId: string): Promise<boolean> {
    const result = await this.webhooks.deleteOne({ _id: webhookId });
    await this.log.deleteMany({ webhook_id: webhookId });
    return result.deletedCount === 1;
  }

  async recordDeliveries(deliveries: readonly WebhookDelivery[], keep: number): Promise<number> {
    const ids = [...new Set(deliveries.map((delivery) => delivery.webhook_id))];
    const existing = new Set((await this.webhooks.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
    const wanted = deliveries.filter((delivery) => existing.has(delivery.webhook_id));
    if (wanted.length === 0) return 0;
    const operations = wanted.map((delivery) => {
      const updatedAt = new Date(delivery.updated_at);
      const document: DeliveryDocument = { ...delivery, event_at: new Date(delivery.event_at), updated_at: updatedAt };
      return {
        updateOne: {
          // An older attempt finds no row to update and its upsert hits the unique key: skipped.
          filter: { webhook_id: delivery.webhook_id, delivery_id: delivery.delivery_id, updated_at: { $lte: updatedAt } },
          update: { $set: document },
          upsert: true,
        },
      };
    });
    let applied = wanted.length;
    try {
      await this.log.bulkWrite(operations, { ordered: false });
    } catch (error) {
      const writeErrors = (error as { writeErrors?: { code: number }[] }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.some((failure) => failure.code !== DUPLICATE_KEY)) throw error;
      applied -= writeErrors.length;
    }
    for (const webhookId of new Set(wanted.map((delivery) => delivery.webhook_id))) {
      const beyond = await this.log
        .find({ webhook_id: webhookId }, { projection: { _id: 1 } })
        .sort({ updated_at: -1, delivery_id: -1 })
        .skip(keep)
        .toArray();
      if (beyond.length > 0) await this.log.deleteMany({ _id: { $in: beyond.map((document) => document._id) } });
    }
    return applied;
  }

  async deliveries(webhookId: string, query: DeliveryQuery): Promise<WebhookDelivery[]> {
    const filter: mongo.Filter<DeliveryDocument> = { webhook_id: webhookId };
    if (query.status !== undefined) filter.status = query.status;
    const documents = await this.log.find(filter).sort({ updated_at: -1, delivery_id: -1 }).limit(query.limit).toArray();
    return documents.map(toDelivery);
  }
}
