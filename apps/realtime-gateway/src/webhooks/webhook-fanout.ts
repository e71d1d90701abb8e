import { Subjects, WEBHOOKS_STREAM, type StoredEvent } from '@beacon/contracts';
import type { DurableWork, Logger, StoredMessage, WorkItem } from '@beacon/platform';
import type { Consumer } from 'nats';
import { fromStoredEvent } from '../feed/outgoing';
import type { WebhookDirectory } from './webhook-directory';
import { wants } from './webhook-matching';

/** The durable consumer of BEACON_EVENTS every gateway replica shares for webhooks. */
export const FANOUT_CONSUMER = 'beacon-webhooks-fanout';
/** Events being fanned out at once (each waits for its jobs' acknowledgements). */
const MAX_IN_FLIGHT = 256;
/**
 * Encoded jobs waiting for their acknowledgements, in bytes: with a thousand webhooks an
 * event is a thousand jobs, so the count of events alone does not bound memory. One event's
 * jobs may go past it (they are built at once); the next event then waits.
 */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
const PULL_WAIT_MS = 5000;
const PUBLISH_TIMEOUT_MS = 5000;
/** An event whose jobs could not all be stored comes again after this long. */
const RETRY_MS = 2000;
const WARN_EVERY_MS = 10_000;

/** The delivery id of one event to one webhook, stable across attempts and replicas (and the job's JetStream message id). */
export const deliveryId = (eventId: string, webhookId: string): string => `${eventId}:${webhookId}`;

/**
 * The webhook jobs of one stored event: one per webhook that wants it, encoded for the
 * BEACON_WEBHOOKS work queue. The job's `message` is the live message verbatim.
 */
export function jobsFor(stored: StoredEvent, webhooks: Iterable<Parameters<typeof wants>[0]>): StoredMessage[] {
  const outgoing = fromStoredEvent(stored);
  const eventId = String(stored.seq);
  const jobs: StoredMessage[] = [];
  for (const webhook of webhooks) {
    if (!wants(webhook, outgoing.type, outgoing.service)) continue;
    // The live message is already JSON: spliced in, not decoded and encoded again.
    const head = JSON.stringify({
      v: 1,
      webhook_id: webhook.webhook_id,
      event_id: eventId,
      event_type: outgoing.type,
      event_at: stored.event.timestamp,
    });
    jobs.push({
      subject: Subjects.webhookJobs,
      data: `${head.slice(0, -1)},"message":${outgoing.json}}`,
      messageId: deliveryId(eventId, webhook.webhook_id),
    });
  }
  return jobs;
}

/**
 * Turns stored events into webhook jobs: a durable pull consumer on BEACON_EVENTS (shared
 * by replicas, explicit acks) and, per event, one job per matching webhook published into
 * BEACON_WEBHOOKS with the message id `<event id>:<webhook id>`. The event is acknowledged
 * only once all its jobs are stored, so a crash in between runs it again, and JetStream's
 * duplicate window keeps the jobs it already had from being stored twice.
 */
export class WebhookFanout {
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private lastWarning = 0;
  private unqueued = 0;

  constructor(
    private readonly work: DurableWork,
    private readonly directory: WebhookDirectory,
    private readonly logger: Logger,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  /** Runs until `stop()`; `open` gives the shared durable consumer, again after a failed pull (it may be gone). */
  async run(open: () => Promise<Consumer>): Promise<void> {
    let consumer: Consumer | null = null;
    while (!this.stopped) {
      const free = MAX_IN_FLIGHT - this.inFlight.size;
      if (free <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      try {
        consumer ??= await open();
        for await (const item of this.work.pullEvents(consumer, free, PULL_WAIT_MS)) {
          while (this.inFlightBytes >= MAX_IN_FLIGHT_BYTES && this.inFlight.size > 0) await Promise.race(this.inFlight);
          const task = this.fanOut(item)
            .catch((error: unknown) => {
              this.logger.error({ err: error, seq: item.message.seq }, 'webhook fan-out of an event failed; it comes again');
              item.message.nak(RETRY_MS);
            })
            .finally(() => this.inFlight.delete(task));
          this.inFlight.add(task);
        }
      } catch (error) {
        if (this.stopped) return;
        consumer = null;
        this.logger.warn({ err: error }, 'webhook fan-out could not read BEACON_EVENTS; opening its consumer again');
        await sleep(RETRY_MS);
      }
    }
  }

  /** Queues one event's jobs; acknowledges the event once every one is stored, or has it come again. */
  private async fanOut(item: WorkItem<StoredEvent>): Promise<void> {
    // A malformed event (counted by the NATS door) has no jobs: acknowledged, so it never blocks the ones after it.
    const jobs = item.document ? jobsFor(item.document, this.directory.all()) : [];
    const bytes = jobs.reduce((sum, job) => sum + job.data.length, 0);
    this.inFlightBytes += bytes;
    let outcomes: Awaited<ReturnType<DurableWork['publishStored']>>;
    try {
      outcomes = jobs.length > 0 ? await this.work.publishStored(WEBHOOKS_STREAM, jobs, PUBLISH_TIMEOUT_MS) : [];
    } finally {
      this.inFlightBytes -= bytes;
    }
    const failures = outcomes.filter((outcome) => outcome !== null);
    if (failures.length === 0) {
      item.message.ack();
      return;
    }
    item.message.nak(RETRY_MS);
    this.unqueued += 1;
    // A full queue refuses every event's jobs, every 2 s: one warning per interval, with the count.
    if (Date.now() - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = Date.now();
    this.logger.warn(
      { seq: item.message.seq, failed: failures.length, jobs: jobs.length, reason: failures[0]?.message, events: this.unqueued },
      'could not queue every webhook job of some events (BEACON_WEBHOOKS full or NATS away?); they come again',
    );
    this.unqueued = 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
