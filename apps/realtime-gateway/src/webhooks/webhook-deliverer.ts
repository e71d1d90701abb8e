import { Subjects, type DeliveryStatus, type WebhookDelivery, type WebhookJob, type WebhookTarget } from '@beacon/contracts';
import type { DurableWork, Logger, NatsService, WorkItem } from '@beacon/platform';
import type { Consumer, JsMsg } from 'nats';
import { deliveryId } from './webhook-fanout';
import { renderDelivery } from './webhook-formats';
import type { WebhookDirectory } from './webhook-directory';
import type { SendOutcome, WebhookSender } from './webhook-sender';
import type { WebhookMetrics } from './webhooks.metrics';
import { nextRetry, type RetryPolicy } from './retry-policy';

/** The durable consumer of BEACON_WEBHOOKS every gateway replica shares. */
export const DELIVERY_CONSUMER = 'beacon-webhooks-delivery';
/** A job whose webhook this gateway has not read yet waits this long. */
const NOT_LOADED_DELAY_MS = 5000;
const PULL_WAIT_MS = 5000;
const RETRY_MS = 2000;
/**
 * A job held back because its webhook is suspect and has its one POST out comes again after
 * this long (not counted as an attempt), doubling each time it is held back, up to a minute
 * (or the longest retry wait): a dead receiver's backlog is not cycled through every 2 s.
 */
const DEFER_MS = 2000;
const MAX_DEFER_MS = 60_000;
/** Jobs remembered as deferred (to keep them out of the attempt count); past it the oldest are forgotten. */
const MAX_DEFERRED_REMEMBERED = 50_000;

export interface DelivererOptions extends RetryPolicy {
  concurrency: number;
  /** A POST unanswered this long is slow: it stops taking one of the `concurrency` slots, and its webhook becomes suspect. */
  slowMs: number;
  /** Slow POSTs held at most (beyond `concurrency`); past it, they take slots again. Bounds sockets and memory. */
  maxSlow: number;
  /** The consumer's ack wait: a POST in flight tells JetStream it is still working at a third of it. */
  ackWaitMs: number;
}

/**
 * Delivers jobs from BEACON_WEBHOOKS, at most `concurrency` POSTs at once (the pull asks
 * for no more than the free slots, so memory is bounded too). A POST unanswered after
 * `slowMs` gives its slot back (up to `maxSlow` such POSTs), and its webhook becomes suspect
 * until a POST to it ends in time: a suspect webhook has one POST out at a time,
 * its other jobs handed back unsent for a while (not counted as attempts). So receivers
 * that never answer (a host that drops packets, a hostile one) cannot hold every slot for
 * the timeout while the other webhooks wait, and a healthy webhook's burst still gets every
 * slot. A 2xx acknowledges the job;
 * a busy or absent receiver gets it again later (`nak` with a delay, see `nextRetry`); a
 * refusal (other 4xx, a redirect, an address the guard denies) or a job past the retry
 * horizon is recorded failed and acknowledged. Every outcome goes to registry-api's
 * delivery log on `beacon.webhooks.delivery`.
 */
export class WebhookDeliverer {
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private slotFreed: (() => void) | null = null;
  /** POSTs in flight per webhook id. */
  private readonly busy = new Map<string, number>();
  /** Slow POSTs in flight (they take no slot), in all and per webhook id. */
  private slow = 0;
  /** Webhooks whose last POST was slow: one POST out at a time until one ends in time. */
  private readonly suspects = new Set<string>();
  /** Times a job (by stream sequence) was handed back unsent because its webhook was busy. */
  private readonly deferred = new Map<number, number>();

  constructor(
    private readonly nats: NatsService,
    private readonly work: DurableWork,
    private readonly directory: WebhookDirectory,
    private readonly sender: WebhookSender,
    private readonly metrics: WebhookMetrics,
    private readonly logger: Logger,
    private readonly options: DelivererOptions,
  ) {}

  /** Stops taking jobs; resolves once the POSTs in flight have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Runs until `stop()`; `open` gives the shared durable consumer, again after a failed pull (it may be gone). */
  async run(open: () => Promise<Consumer>): Promise<void> {
    let consumer: Consumer | null = null;
    while (!this.stopped) {
      const fast = this.inFlight.size - this.slow;
      const free = Math.min(this.options.concurrency - fast, this.options.concurrency + this.options.maxSlow - this.inFlight.size);
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      try {
        consumer ??= await open();
        for await (const item of this.work.pullMessages(consumer, Subjects.webhookJobs, free, PULL_WAIT_MS)) this.start(item);
      } catch (error) {
        if (this.stopped) return;
        consumer = null;
        this.logger.warn({ err: error }, 'webhook delivery could not read BEACON_WEBHOOKS; opening its consumer again');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Handles one job in the background; its slot frees when it ends. */
  private start(item: WorkItem<WebhookJob>): void {
    const task = this.handle(item)
      .catch((error: unknown) => {
        this.logger.error({ err: error, seq: item.message.seq }, 'webhook job failed unexpectedly; it comes again');
        item.message.nak(RETRY_MS);
      })
      .finally(() => {
        this.inFlight.delete(task);
        this.wake();
      });
    this.inFlight.add(task);
  }

  private async handle({ message, document: job }: WorkItem<WebhookJob>): Promise<void> {
    if (!job) {
      // Malformed (counted and warned about by the NATS door): nothing could ever deliver it.
      message.ack();
      return;
    }
    if (!this.directory.loaded) {
      message.nak(NOT_LOADED_DELAY_MS);
      return;
    }
    const webhook = this.directory.get(job.webhook_id);
    if (!webhook || !webhook.enabled) {
      message.ack();
      this.metrics.attempt('dropped', null);
      this.logger.info({ webhook_id: job.webhook_id, event_id: job.event_id }, 'webhook job dropped: its webhook is gone or disabled');
      return;
    }
    const seq = message.seq;
    const eventAt = Date.parse(job.event_at);
    const now = Date.now();
    if (now >= eventAt + this.options.retryForMs) {
      const attempts = this.attemptsOf(message);
      this.deferred.delete(seq);
      message.ack();
      this.metrics.attempt('failed', null);
      this.report(job, webhook, 'failed', attempts, null, `gave up: the event is older than the retry horizon`, null);
      return;
    }
    const id = webhook.webhook_id;
    if (this.suspects.has(id) && (this.busy.get(id) ?? 0) > 0) {
      this.defer(message);
      return;
    }
    const attempts = this.attemptsOf(message);
    const outcome = await this.posting(webhook.webhook_id, () => this.post(webhook, job, message));
    if (outcome.delivered) {
      this.deferred.delete(seq);
      message.ack();
      this.metrics.attempt('delivered', outcome.latencyMs);
      this.metrics.delivered(eventAt);
      this.report(job, webhook, 'delivered', attempts, outcome.statusCode, null, outcome.latencyMs);
      return;
    }
    const decision = outcome.retryable
      ? nextRetry(this.options, attempts, eventAt, Date.now(), outcome.retryAfterMs)
      : { retry: false as const, reason: '' };
    if (decision.retry) {
      message.nak(decision.delayMs);
      this.metrics.attempt('retried', outcome.latencyMs);
      this.report(job, webhook, 'retrying', attempts, outcome.statusCode, outcome.error, outcome.latencyMs);
      return;
    }
    this.deferred.delete(seq);
    message.ack();
    this.metrics.attempt('failed', outcome.latencyMs);
    const error = decision.reason ? `${decision.reason}; last: ${outcome.error ?? 'unknown error'}` : outcome.error;
    this.report(job, webhook, 'failed', attempts, outcome.statusCode, error, outcome.latencyMs);
    this.logger.warn({ webhook_id: webhook.webhook_id, event_id: job.event_id, error }, 'webhook delivery failed for good');
  }

  /** Hands a job back unsent for later: its webhook has its share of POSTs in flight, or a slow one. */
  private defer(message: JsMsg): void {
    if (this.deferred.size >= MAX_DEFERRED_REMEMBERED) {
      const oldest = this.deferred.keys().next();
      if (!oldest.done) this.deferred.delete(oldest.value);
    }
    const times = (this.deferred.get(message.seq) ?? 0) + 1;
    this.deferred.set(message.seq, times);
    const longest = Math.min(MAX_DEFER_MS, this.options.maxDelayMs);
    message.nak(Math.max(1000, Math.min(longest, DEFER_MS * 2 ** Math.min(10, times - 1))));
  }

  /** Tries of this job so far, this one included: its deliveries less the times it was handed back unsent here. */
  private attemptsOf(message: JsMsg): number {
    return Math.max(1, message.info.redeliveryCount - (this.deferred.get(message.seq) ?? 0));
  }

  /** Runs one POST, counted for its webhook; past `slowMs` it counts as slow, frees its slot and makes the webhook suspect. */
  private async posting(webhookId: string, post: () => Promise<SendOutcome>): Promise<SendOutcome> {
    count(this.busy, webhookId, 1);
    let slow = false;
    const timer = setTimeout(() => {
      slow = true;
      this.slow += 1;
      this.suspect(webhookId);
      this.wake();
    }, this.options.slowMs);
    try {
      const outcome = await post();
      // Any answer in time (a refusal too) clears it: only slowness costs slots.
      if (!slow) this.suspects.delete(webhookId);
      return outcome;
    } finally {
      clearTimeout(timer);
      count(this.busy, webhookId, -1);
      if (slow) this.slow -= 1;
    }
  }

  private suspect(webhookId: string): void {
    // Bounded like the webhooks themselves; past it, the oldest suspect is forgiven.
    if (this.suspects.size >= MAX_DEFERRED_REMEMBERED && !this.suspects.has(webhookId)) {
      const oldest = this.suspects.values().next();
      if (!oldest.done) this.suspects.delete(oldest.value);
    }
    this.suspects.add(webhookId);
  }

  /** Lets the pull loop look at the free slots again. */
  private wake(): void {
    const wake = this.slotFreed;
    this.slotFreed = null;
    wake?.();
  }

  /** POSTs the job, telling JetStream the job is still being worked on while the POST runs. */
  private async post(webhook: WebhookTarget, job: WebhookJob, message: JsMsg): Promise<SendOutcome> {
    const live = job.message as { data?: unknown };
    const request = renderDelivery(
      {
        format: webhook.format,
        secret: webhook.secret,
        webhookId: webhook.webhook_id,
        eventId: job.event_id,
        deliveryId: deliveryId(job.event_id, webhook.webhook_id),
        type: job.event_type,
        data: live.data ?? null,
        timestamp: job.event_at,
      },
      Date.now(),
    );
    const keepAlive = setInterval(() => message.working(), Math.max(1000, Math.floor(this.options.ackWaitMs / 3)));
    try {
      return await this.sender.send(webhook.url, request);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private report(
    job: WebhookJob,
    webhook: WebhookTarget,
    status: DeliveryStatus,
    attempts: number,
    statusCode: number | null,
    lastError: string | null,
    latencyMs: number | null,
  ): void {
    const delivery: WebhookDelivery = {
      delivery_id: deliveryId(job.event_id, webhook.webhook_id),
      webhook_id: webhook.webhook_id,
      event_type: job.event_type as WebhookDelivery['event_type'],
      status,
      attempts,
      status_code: statusCode,
      last_error: lastError,
      latency_ms: latencyMs,
      event_at: job.event_at,
      updated_at: new Date().toISOString(),
    };
    this.nats.publish(Subjects.webhookDelivery, { v: 1, delivery });
  }
}

/** Adds `by` to `key`'s count, forgetting keys that reach zero. */
function count(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
