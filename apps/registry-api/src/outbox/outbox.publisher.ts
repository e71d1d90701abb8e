import { EVENTS_STREAM } from '@beacon/contracts';
import { MetricsService, NatsService, ROOT_LOGGER, StoredPublishError, type Logger } from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SERVICE_STORE, type PendingEvent, type ServiceStore } from '../store/service-store';

type Counter = ReturnType<MetricsService['counter']>;

/** Entries sent together, then acknowledged together: one page of the outbox. */
const PAGE = 256;
/** How long one batch waits for JetStream's acknowledgements. */
const ACK_TIMEOUT_MS = 5000;
/** Retry delays after a failed batch: doubling from the first to the last. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
/** A look at the outbox even when nothing woke the publisher (another replica's entries, a missed wake). */
const SAFETY_POLL_MS = 5000;
/** The longest shutdown waits for a batch in flight (its acknowledgements, then its removal) before leaving the rest for the next start. */
const SHUTDOWN_WAIT_MS = ACK_TIMEOUT_MS + 1000;

/** The position of the first entry that did not make it into the stream, or -1. */
export function firstFailure(outcomes: readonly (Error | null)[]): number {
  return outcomes.findIndex((outcome) => outcome !== null);
}

/**
 * Drains the store's outbox into `BEACON_EVENTS`: a page of entries in `seq` order, sent
 * together (one connection keeps them in order), each with its entry id as JetStream's
 * message id, so a resend after a crash or a lost acknowledgement is stored once. Entries
 * are removed only up to the last one acknowledged with every one before it; from a
 * failed one on the page is sent again, after a backoff, or at once when NATS comes back.
 *
 * Core NATS subscribers (ttl-reaper, mdns-announcer, the gateway's live feed) receive the
 * same messages: a JetStream publish is a plain publish the stream also stores.
 */
@Injectable()
export class OutboxPublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private draining: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = false;
  private retryDelay = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private lastProvision = 0;
  private readonly published: Counter;
  private readonly failures: Counter;
  private readonly dropped: Counter;
  private droppedSeen = 0;
  private stopReconnect: (() => void) | null = null;

  constructor(
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(MetricsService) metrics: MetricsService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.published = metrics.counter('beacon_outbox_published_total', 'Outbox events JetStream acknowledged and the outbox let go of');
    this.failures = metrics.counter('beacon_outbox_publish_failures_total', 'Outbox batches that did not all reach JetStream, by reason', [
      'reason',
    ]);
    this.dropped = metrics.counter(
      'beacon_outbox_dropped_total',
      'Outbox events dropped unsent because the outbox held BEACON_OUTBOX_MAX_EVENTS (embedded store)',
    );
    const outbox = this.store;
    metrics.gauge('beacon_outbox_depth', 'Events written with their change and not yet acknowledged by JetStream', [], async function () {
      const state = await outbox.outboxState().catch(() => null);
      if (state) this.set(state.depth);
    });
    metrics.gauge(
      'beacon_outbox_oldest_age_seconds',
      'Age of the oldest event waiting in the outbox (0 when it is empty)',
      [],
      async function () {
        const state = await outbox.outboxState().catch(() => null);
        if (state) this.set(state.oldest === null ? 0 : Math.max(0, (Date.now() - state.oldest) / 1000));
      },
    );
  }

  onApplicationBootstrap(): void {
    this.stopReconnect = this.nats.onReconnect(() => this.retryNow());
    this.safetyTimer = setInterval(() => this.wake(), SAFETY_POLL_MS);
    this.safetyTimer.unref();
    // Whatever the last run left unsent goes first.
    this.wake();
  }

  /** Something was written: send it (or send it after the drain in progress). */
  wake(): void {
    if (this.stopped || this.retryTimer) return;
    if (this.draining) {
      this.wakeAgain = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  private retryNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryDelay = RETRY_FIRST_MS;
    this.wake();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        this.countDropped();
        if (!this.nats.connected) {
          // Sent now, they would pile up in the client's reconnect buffer: NATS's return wakes us.
          this.scheduleRetry();
          return;
        }
        const page = await this.store.outboxPage(PAGE);
        if (page.length === 0) return;
        const sent = await this.send(page);
        if (sent > 0) {
          await this.store.outboxDone(page.slice(0, sent));
          this.published.inc(sent);
        }
        if (sent < page.length) {
          this.scheduleRetry();
          return;
        }
        this.retryDelay = RETRY_FIRST_MS;
      }
    } catch (error) {
      // The store itself failed (disk full, I/O): the entries stay where they are.
      this.logger.error({ err: error }, 'outbox: could not read or update the outbox; retrying');
      this.failures.inc({ reason: 'store' });
      this.scheduleRetry();
    }
  }

  /** Sends a page; returns how many entries from its start JetStream acknowledged. */
  private async send(page: PendingEvent[]): Promise<number> {
    const outcomes = await this.nats.publishStoredBatch(
      page.map((entry) => ({ subject: entry.subject, data: entry.data, messageId: entry.id })),
      ACK_TIMEOUT_MS,
    );
    const failed = firstFailure(outcomes);
    if (failed === -1) return page.length;
    const error = outcomes[failed] as Error;
    const reason = describe(error);
    this.failures.inc({ reason });
    this.logger.warn(
      { reason, error: error.message, waiting_from_seq: (page[failed] as PendingEvent).seq },
      'outbox: JetStream did not acknowledge every event; they stay in the outbox and are sent again',
    );
    // A 503 says no stream takes the subject only while nothing else listens to it; with
    // subscribers (Beacon's own apps), a deleted stream shows as acknowledgements timing out.
    if (reason === 'no_stream' || (reason === 'timeout' && failed === 0)) await this.reprovision();
    return failed;
  }

  /** A stream deleted behind registry-api's back (or lost with NATS's storage) is created again. */
  private async reprovision(): Promise<void> {
    if (Date.now() - this.lastProvision < RETRY_MAX_MS) return;
    this.lastProvision = Date.now();
    try {
      if ((await this.nats.eventStreamState()) !== null) return;
      this.logger.warn({ stream: EVENTS_STREAM }, 'outbox: the event stream is gone; creating it again');
      await this.nats.provisionEventStream();
    } catch (error) {
      this.logger.warn({ err: error }, 'outbox: could not create the event stream');
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.wake();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
  }

  private countDropped(): void {
    const total = this.store.outboxDropped;
    if (total > this.droppedSeen) {
      this.dropped.inc(total - this.droppedSeen);
      this.logger.error(
        { dropped: total - this.droppedSeen },
        'outbox: full (BEACON_OUTBOX_MAX_EVENTS); the oldest waiting events were dropped, consumers catch up by resync',
      );
      this.droppedSeen = total;
    }
  }

  /** Stops sending; a batch in flight gets a moment to be acknowledged and let go of. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopReconnect?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.safetyTimer) clearInterval(this.safetyTimer);
    const inFlight = this.draining;
    if (inFlight) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)))]);
      clearTimeout(timer);
    }
  }
}

/** A short, bounded label for why a publish failed. */
function describe(error: Error): string {
  return error instanceof StoredPublishError ? error.reason : 'other';
}
