import {
  DEFAULTS,
  Subjects,
  WIRE_VERSION,
  type Webhook,
  type WebhookDelivery,
  type WebhookDeliveryList,
  type WebhookList,
  type WebhookTarget,
  type WebhooksReply,
} from '@beacon/contracts';
import { NatsRequestError, NatsService } from '@beacon/platform';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import type { DeliveriesQueryDto, WebhookBodyDto } from './webhook.dto';
import { WEBHOOK_LIMITS } from './webhook.dto';
import type { WebhookStore } from './webhook-store';
import { WebhookStoreRef } from './webhook-store.provider';
import { maskUrl, normalizeUrl } from './webhook-url';
import { DelivererTimeout, DelivererUnavailable, WebhookNotFound, WebhooksFull, WebhooksTooLarge } from './webhooks.errors';

/**
 * Deliverers read every webhook in one reply (`beacon.registry.webhooks`), which must fit in
 * one NATS message (max_payload, 1 MiB by default): what webhooks may add up to, with room to spare.
 */
export const TARGETS_BUDGET_BYTES = 768 * 1024;

/** How long a test may take: the deliverer's own 10 s request timeout, and some. */
const TEST_TIMEOUT_MS = 15_000;

/** A webhook as the API shows it: URL masked, secret replaced by whether there is one. */
export function publicView(webhook: WebhookTarget): Webhook {
  const { webhook_id, secret, url, ...rest } = webhook;
  return { webhook_id, url: maskUrl(url, webhook.format), ...rest, has_secret: secret !== null };
}

/**
 * A definition from a validated body. `previous` is the stored webhook on PUT: an omitted
 * secret keeps its secret, and the masked URL the API showed for it keeps its URL.
 */
export function definitionOf(body: WebhookBodyDto, previous: WebhookTarget | null, now: string): WebhookTarget {
  const format = body.format ?? 'generic';
  let url = normalizeUrl(body.url);
  if (previous && (url === maskUrl(previous.url, previous.format) || url === maskUrl(previous.url, format))) url = previous.url;
  return {
    webhook_id: previous?.webhook_id ?? randomUUID(),
    url,
    events: [...new Set(body.events)] as WebhookTarget['events'],
    format,
    service_id: body.service_id ?? null,
    type: body.type ?? null,
    tags: [...new Set(body.tags ?? [])],
    description: body.description ?? null,
    secret: body.secret === undefined ? (previous?.secret ?? null) : body.secret,
    enabled: body.enabled ?? true,
    created_at: previous?.created_at ?? now,
    updated_at: now,
  };
}

@Injectable()
export class WebhooksService {
  constructor(
    @Inject(WebhookStoreRef) private readonly storeRef: WebhookStoreRef,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
  ) {}

  private get store(): WebhookStore {
    return this.storeRef.store;
  }

  async create(body: WebhookBodyDto): Promise<Webhook> {
    const webhook = definitionOf(body, null, new Date().toISOString());
    await this.assertListFits(webhook);
    const max = this.config.BEACON_MAX_WEBHOOKS;
    if (!(await this.store.insert(webhook, max))) throw new WebhooksFull(max);
    this.changed(webhook.webhook_id);
    return publicView(webhook);
  }

  async list(page: { limit?: number; skip?: number }): Promise<WebhookList> {
    const limit = page.limit ?? DEFAULTS.listLimit;
    const skip = page.skip ?? 0;
    const { webhooks, total } = await this.store.list({ limit, skip });
    return { webhooks: webhooks.map(publicView), total, limit, skip };
  }

  async get(webhookId: string): Promise<Webhook> {
    return publicView(await this.stored(webhookId));
  }

  async replace(webhookId: string, body: WebhookBodyDto): Promise<Webhook> {
    const previous = await this.stored(webhookId);
    const webhook = definitionOf(body, previous, new Date().toISOString());
    await this.assertListFits(webhook);
    if (!(await this.store.replace(webhook))) throw new WebhookNotFound(webhookId);
    this.changed(webhookId);
    return publicView(webhook);
  }

  async delete(webhookId: string): Promise<void> {
    if (!(await this.store.delete(webhookId))) throw new WebhookNotFound(webhookId);
    this.changed(webhookId);
  }

  async deliveries(webhookId: string, query: DeliveriesQueryDto): Promise<WebhookDeliveryList> {
    await this.stored(webhookId);
    const limit = query.limit ?? WEBHOOK_LIMITS.deliveries.default;
    return { deliveries: await this.store.deliveries(webhookId, { limit, status: query.status }) };
  }

  /** Asks a deliverer (realtime-gateway) to send the webhook a sample now; its outcome is the answer. */
  async test(webhookId: string): Promise<WebhookDelivery> {
    await this.stored(webhookId);
    try {
      const reply = await this.nats.request(Subjects.webhookTest, { webhook_id: webhookId }, TEST_TIMEOUT_MS);
      return reply.delivery;
    } catch (error) {
      throw testError(error, webhookId);
    }
  }

  /** Every webhook in full, for deliverers only (`beacon.registry.webhooks`). */
  async targets(): Promise<WebhookTarget[]> {
    return this.store.all();
  }

  private async stored(webhookId: string): Promise<WebhookTarget> {
    const webhook = await this.store.get(webhookId);
    if (!webhook) throw new WebhookNotFound(webhookId);
    return webhook;
  }

  /** Creates and edits are rare: the whole list is measured as deliverers will receive it. */
  private async assertListFits(next: WebhookTarget): Promise<void> {
    const others = (await this.store.all()).filter((webhook) => webhook.webhook_id !== next.webhook_id);
    const reply: WebhooksReply = { v: WIRE_VERSION, webhooks: [...others, next] };
    if (Buffer.byteLength(JSON.stringify(reply)) > TARGETS_BUDGET_BYTES) throw new WebhooksTooLarge(TARGETS_BUDGET_BYTES);
  }

  private changed(webhookId: string): void {
    this.nats.publish(Subjects.webhooksChanged, { v: WIRE_VERSION, webhook_id: webhookId, timestamp: new Date().toISOString() });
  }
}

/** What a client should hear when the test could not be sent. */
function testError(error: unknown, webhookId: string): Error {
  if (!(error instanceof NatsRequestError)) return error instanceof Error ? error : new Error(String(error));
  switch (error.code) {
    case 'no_responders':
      return new DelivererUnavailable('No deliverer is running to send the test: start realtime-gateway, which delivers webhooks');
    case 'timeout':
      return new DelivererTimeout(webhookId, TEST_TIMEOUT_MS);
    case 'not_found':
      return new DelivererUnavailable(`realtime-gateway has not seen webhook ${webhookId} yet; try again in a moment`);
    default:
      return new DelivererUnavailable(`realtime-gateway could not test webhook ${webhookId}: ${error.message}`);
  }
}
