import type { DeliveryStatus, WebhookDelivery, WebhookTarget } from '@beacon/contracts';

/** A page of webhooks, oldest first (creation order is stable under edits). */
export interface WebhookPage {
  webhooks: WebhookTarget[];
  total: number;
}

export interface DeliveryQuery {
  limit: number;
  status?: DeliveryStatus;
}

/**
 * Where webhooks and their delivery logs live: beside the catalog, in the same SQLite file
 * or MongoDB database (the catalog store's `handle`). Webhooks are held whole (URL and
 * secret); what the API may show is decided above this port.
 */
export interface WebhookStore {
  /** Creates the tables or indexes if missing. */
  open(): Promise<void>;
  list(page: { limit: number; skip: number }): Promise<WebhookPage>;
  all(): Promise<WebhookTarget[]>;
  get(webhookId: string): Promise<WebhookTarget | null>;
  /** Inserts unless `max` (> 0) webhooks exist already: false then. */
  insert(webhook: WebhookTarget, max: number): Promise<boolean>;
  /** Replaces a webhook's definition: false when it does not exist. */
  replace(webhook: WebhookTarget): Promise<boolean>;
  /** Deletes a webhook and its delivery log: false when it did not exist. */
  delete(webhookId: string): Promise<boolean>;
  /**
   * Upserts deliveries by (webhook_id, delivery_id), a later attempt replacing an earlier
   * one; deliveries of webhooks that no longer exist are ignored. Then keeps the newest
   * `keep` per webhook touched. Returns how many were applied.
   */
  recordDeliveries(deliveries: readonly WebhookDelivery[], keep: number): Promise<number>;
  /** A webhook's log, newest first. */
  deliveries(webhookId: string, query: DeliveryQuery): Promise<WebhookDelivery[]>;
}
