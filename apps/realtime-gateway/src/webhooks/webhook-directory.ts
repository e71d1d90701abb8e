import { Subjects, type WebhookTarget } from '@beacon/contracts';
import { NatsService, ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

/** How often the webhooks are read again even without a change notice (one lost on core NATS is caught up). */
const REFRESH_MS = 30_000;
/** After a failed read, the next try comes this soon. */
const RETRY_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
/** While registry-api does not answer, this often at most a warning says so (tries are every 2 s). */
const WARN_EVERY_MS = 60_000;

/**
 * This gateway's copy of every webhook (URL and secret included), as registry-api answers
 * `beacon.registry.webhooks`: read at start, again on each `beacon.webhooks.changed`, and
 * every 30 s. Reads never overlap; a change notice during one asks for one more after it.
 */
@Injectable()
export class WebhookDirectory implements OnApplicationBootstrap, OnApplicationShutdown {
  private webhooks = new Map<string, WebhookTarget>();
  private loadedOnce = false;
  private reading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly waiters = new Set<() => void>();
  private lastWarning = 0;
  private failedSince = 0;

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.subscribe(Subjects.webhooksChanged, () => void this.refresh());
    this.nats.onReconnect(() => void this.refresh());
    void this.refresh();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const wake of this.waiters) wake();
  }

  /** True once the webhooks were read at least once (until then no job can be judged). */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  get size(): number {
    return this.webhooks.size;
  }

  get(webhookId: string): WebhookTarget | undefined {
    return this.webhooks.get(webhookId);
  }

  all(): IterableIterator<WebhookTarget> {
    return this.webhooks.values();
  }

  /** Resolves once the webhooks have been read (or the gateway stops). */
  whenLoaded(): Promise<void> {
    if (this.loadedOnce || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** Reads the webhooks again (after the read in progress, if any); resolves when the copy is current. */
  refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.read().finally(() => {
      this.reading = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    let next = REFRESH_MS;
    try {
      const reply = await this.nats.request(Subjects.registryWebhooks, {}, REQUEST_TIMEOUT_MS);
      this.webhooks = new Map(reply.webhooks.map((webhook) => [webhook.webhook_id, webhook]));
      if (!this.loadedOnce) {
        this.loadedOnce = true;
        this.logger.info({ webhooks: this.webhooks.size }, 'webhooks read from registry-api');
        for (const wake of this.waiters) wake();
        this.waiters.clear();
      }
      this.failedSince = 0;
    } catch (error) {
      next = RETRY_MS;
      this.failedSince += 1;
      if (Date.now() - this.lastWarning >= WARN_EVERY_MS) {
        this.lastWarning = Date.now();
        this.logger.warn(
          { err: error, failures: this.failedSince },
          'could not read the webhooks from registry-api; webhook delivery waits for them, trying again',
        );
      }
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.refresh(), this.loadedOnce ? next : RETRY_MS);
  }
}
