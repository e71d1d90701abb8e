import { EVENTS_STREAM, STREAM_SUBJECTS, type StoredEvent } from '@beacon/contracts';
import {
  ConsumerEvents,
  DiscardPolicy,
  NatsError,
  RetentionPolicy,
  StorageType,
  nanos,
  type Consumer,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from 'nats';
import type { Logger } from 'pino';
import type { NatsSettings } from './nats.service';

/**
 * What a process does about the `BEACON_EVENTS` stream when it connects.
 *
 * - `provision` — registry-api, the stream's one owner: creates it, or brings its subjects
 *   and limits (`BEACON_EVENTS_*`) up to date. The catalog events it keeps are registry-api's,
 *   so its configuration is the one that counts.
 * - `create` — node-role-elector: creates it if it is absent, and otherwise leaves it as
 *   it is. The elector may run on a host (or a site) with no registry-api, and its role
 *   events must still be stored; it never overrides the owner's limits.
 * - `none` — everyone else. realtime-gateway reads the stream and waits for it to exist
 *   (compose and Kubernetes start apps in any order); the others do not use it.
 */
export type EventStreamDuty = 'provision' | 'create' | 'none';

const STREAM_NOT_FOUND = 10059;

export function isStreamNotFound(error: unknown): boolean {
  return error instanceof NatsError && error.api_error?.err_code === STREAM_NOT_FOUND;
}

/**
 * How long JetStream remembers message ids: registry-api's outbox resends an event whose
 * acknowledgement it did not get (NATS away, a crash between the acknowledgement and its
 * removal), and a resend within this window is stored once. 10 minutes instead of
 * JetStream's 2 covers a restart and a short NATS outage; never longer than the stream keeps
 * messages (JetStream refuses that).
 */
export function duplicateWindowMs(maxAgeSeconds: number): number {
  const tenMinutes = 10 * 60 * 1000;
  return maxAgeSeconds > 0 ? Math.min(tenMinutes, maxAgeSeconds * 1000) : tenMinutes;
}

function streamConfig(settings: NatsSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: EVENTS_STREAM,
    subjects: [...STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(settings.BEACON_EVENTS_MAX_AGE * 1000),
    duplicate_window: nanos(duplicateWindowMs(settings.BEACON_EVENTS_MAX_AGE)),
    max_bytes: settings.BEACON_EVENTS_MAX_BYTES,
    num_replicas: settings.BEACON_JETSTREAM_REPLICAS,
  };
}

/** Does what `duty` says about the stream (see `EventStreamDuty`). */
export async function prepareEventStream(
  jsm: JetStreamManager,
  settings: NatsSettings,
  duty: EventStreamDuty,
  logger: Logger,
): Promise<void> {
  if (duty === 'none') return;
  const config = streamConfig(settings);
  try {
    await jsm.streams.info(EVENTS_STREAM);
    if (duty === 'provision') await jsm.streams.update(EVENTS_STREAM, config);
    return;
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
  }
  try {
    await jsm.streams.add(config);
    logger.info({ stream: EVENTS_STREAM }, 'created JetStream stream');
  } catch (error) {
    // Another process created it between the two requests: the owner's update wins.
    if (!(error instanceof NatsError && error.api_error?.err_code === 10058)) throw error;
    if (duty === 'provision') await jsm.streams.update(EVENTS_STREAM, config);
  }
}

const TROUBLE = new Set<string>([
  ConsumerEvents.HeartbeatsMissed,
  ConsumerEvents.ConsumerNotFound,
  ConsumerEvents.StreamNotFound,
  ConsumerEvents.ConsumerDeleted,
  ConsumerEvents.NoResponders,
]);

/**
 * Stored events in stream order, each checked like a subscribed event (a message that
 * does not pass is counted and skipped by `accept`). `lastSeq` is the position of the
 * last message read, skipped ones included.
 */
export class EventStreamReader implements AsyncIterable<StoredEvent> {
  private position: number;
  private receiving = true;

  constructor(
    private readonly messages: ConsumerMessages,
    private readonly accept: (message: JsMsg) => StoredEvent | null,
    fromSeq: number,
  ) {
    this.position = fromSeq - 1;
    void this.watchStatus();
  }

  get lastSeq(): number {
    return this.position;
  }

  /**
   * False while the consumer reports trouble (heartbeats missed, its stream or consumer
   * gone, no JetStream answering) until it is recreated or a message arrives: a reader
   * can wait forever without erroring, and readiness must not say it is fine meanwhile.
   */
  get healthy(): boolean {
    return this.receiving;
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const status of await this.messages.status()) {
        if (TROUBLE.has(status.type)) this.receiving = false;
        else if (status.type === ConsumerEvents.OrderedConsumerRecreated) this.receiving = true;
      }
    } catch {
      // The status feed ends with the reader.
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    for await (const message of this.messages) {
      this.receiving = true;
      this.position = message.seq;
      const stored = this.accept(message);
      if (stored) yield stored;
    }
  }

  /** Stops delivery after what is already buffered. */
  stop(): void {
    this.messages.stop();
  }

  async close(): Promise<void> {
    await this.messages.close();
  }
}

/**
 * Stored events from a position, one page per `next()`: each pulls at most `pageBytes` of
 * messages, and only when asked, so a reader that takes its pages slowly (a resume written
 * as fast as a slow client reads) never has more than one page in memory. A continuous
 * `consume()` would keep pulling into its queue meanwhile. Messages are checked like the
 * other readers'; `lastSeq` counts skipped ones too.
 */
export class EventStreamPages {
  private position: number;

  constructor(
    private readonly consumer: Consumer,
    private readonly accept: (message: JsMsg) => StoredEvent | null,
    fromSeq: number,
    private readonly pageBytes: number,
  ) {
    this.position = fromSeq - 1;
  }

  get lastSeq(): number {
    return this.position;
  }

  /** The next page (empty when nothing came within `waitMs`, at least 1000). */
  async next(waitMs: number): Promise<StoredEvent[]> {
    const messages = await this.consumer.fetch({ max_bytes: this.pageBytes, expires: Math.max(1000, waitMs) });
    const page: StoredEvent[] = [];
    for await (const message of messages) {
      this.position = message.seq;
      const stored = this.accept(message);
      if (stored) page.push(stored);
    }
    return page;
  }

  async close(): Promise<void> {
    await this.consumer.delete().catch(() => false);
  }
}
