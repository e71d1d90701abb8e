import { MetricsService, ROOT_LOGGER, type Counter, type Logger } from '@beacon/platform';
import type { WebhookDelivery } from '@beacon/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import type { WebhookStore } from './webhook-store';
import { WebhookStoreRef } from './webhook-store.provider';

/** Reports are written together, one transaction this often: a burst of deliveries costs one commit. */
const FLUSH_INTERVAL_MS = 100;
/** Reports held between writes at most; beyond it the oldest waiting one is dropped (and counted). */
const MAX_PENDING = 10_000;
/** A deliverer's error text kept at most per delivery. */
const MAX_ERROR_LENGTH = 500;

/**
 * The delivery log's writer: reports from deliverers (`beacon.webhooks.delivery`) are held
 * by delivery (a later report replaces an earlier one still waiting) and written every
 * 100 ms in one go, each webhook's log then cut to the newest `BEACON_WEBHOOK_LOG_PER_WEBHOOK`.
 */
@Injectable()
export class DeliveryLog {
  private pending = new Map<string, WebhookDelivery>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly outcomes: Counter<'outcome'>;

  constructor(
    @Inject(WebhookStoreRef) private readonly storeRef: WebhookStoreRef,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter(
      'beacon_webhook_log_reports_total',
      'Delivery reports from deliverers, by what became of them: recorded, unknown_webhook (deleted meanwhile), dropped (over the pending bound) or failed (the write failed)',
      ['outcome'],
    );
  }
  private get store(): WebhookStore {
    return this.storeRef.store;
  }

  add(delivery: WebhookDelivery): void {
    const key = `${delivery.webhook_id}\u0000${delivery.delivery_id}`;
    const waiting = this.pending.get(key);
    // Reports from replicas can cross: an earlier attempt never replaces a later one (nor does it in the store).
    if (waiting && Date.parse(waiting.updated_at) > Date.parse(delivery.updated_at)) return;
    this.pending.delete(key);
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.outcomes.inc({ outcome: 'dropped' });
    }
    const lastError = delivery.last_error;
    this.pending.set(
      key,
      lastError && lastError.length > MAX_ERROR_LENGTH ? { ...delivery, last_error: `${lastError.slice(0, MAX_ERROR_LENGTH)}…` } : delivery,
    );
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Writes what is waiting (after any write in progress); resolves once it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.writing = this.writing.then(() => (batch.length === 0 ? undefined : this.write(batch)));
    return this.writing;
  }

  private async write(batch: WebhookDelivery[]): Promise<void> {
    try {
      const recorded = await this.store.recordDeliveries(batch, this.config.BEACON_WEBHOOK_LOG_PER_WEBHOOK);
      this.outcomes.inc({ outcome: 'recorded' }, recorded);
      if (recorded < batch.length) this.outcomes.inc({ outcome: 'unknown_webhook' }, batch.length - recorded);
    } catch (error) {
      this.outcomes.inc({ outcome: 'failed' }, batch.length);
      this.logger.error({ err: error, reports: batch.length }, 'webhook delivery log: write failed; these reports are lost');
    }
  }
}
