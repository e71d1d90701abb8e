import {
  payloadCheckFor,
  storedPayloadCheck,
  type MessagePayloads,
  type MessageSubject,
  type StoredEvent,
  type StreamSubject,
} from '@beacon/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  NatsError,
  RetentionPolicy,
  StorageType,
  nanos,
  type Consumer,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import type { Logger } from 'pino';
import type { Inbound } from './inbound';
import { StoredPublisher, type StoredMessage, type StoredPublishError } from './stored-publisher';

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const CONSUMER_NOT_FOUND = 10014;

/** A work-queue stream: each message is kept until one consumer acknowledges it. */
export interface WorkQueueSpec {
  name: string;
  subjects: string[];
  maxBytes: number;
  maxAgeMs: number;
  /** How long a message id is remembered, so a resend is stored once (never more than `maxAgeMs`). */
  duplicateWindowMs: number;
  replicas: number;
}

/** A durable pull consumer shared by every replica that names it. */
export interface DurableSpec {
  stream: string;
  name: string;
  /** Where a consumer created now starts; an existing one keeps its position. */
  startAt: 'new' | 'all';
  /** After this long without an ack (or `working()`), a message is delivered again. */
  ackWaitMs: number;
  /** Messages delivered and not yet acknowledged, across every replica. */
  maxAckPending: number;
}

/** One message taken from a durable consumer; `document` is null when it failed its check (already counted: acknowledge it, so it never comes again). */
export interface WorkItem<T> {
  message: JsMsg;
  document: T | null;
}

/** Pending and in-flight messages of a durable consumer. */
export interface DurableDepth {
  pending: number;
  inFlight: number;
}

/**
 * JetStream work that outlives a process and is shared by replicas: work-queue streams,
 * durable pull consumers with explicit acks, and acked batch publishes into any stream
 * (StoredPublisher). Messages read here pass the same checks as subscribed ones
 * (`Inbound`), so a malformed message is counted and handed back with no document, never thrown.
 */
export class DurableWork {
  private readonly publishers = new Map<string, StoredPublisher>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly inbound: Inbound,
    private readonly inboxPrefix: string,
    private readonly logger: Logger,
  ) {}

  private manager(): Promise<JetStreamManager> {
    return this.connection.jetstreamManager();
  }

  /** Creates the work queue, or brings its limits up to date (replicas race: the loser updates). */
  async provisionWorkQueue(spec: WorkQueueSpec): Promise<void> {
    const jsm = await this.manager();
    const config = {
      name: spec.name,
      subjects: spec.subjects,
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      // A full queue refuses new jobs (their event is not acknowledged and comes again) rather than dropping waiting ones.
      discard: DiscardPolicy.New,
      max_bytes: spec.maxBytes,
      max_age: nanos(spec.maxAgeMs),
      duplicate_window: nanos(Math.min(spec.duplicateWindowMs, spec.maxAgeMs)),
      num_replicas: spec.replicas,
    };
    try {
      await jsm.streams.info(spec.name);
      await jsm.streams.update(spec.name, config);
      return;
    } catch (error) {
      if (!hasApiCode(error, STREAM_NOT_FOUND)) throw error;
    }
    try {
      await jsm.streams.add(config);
      this.logger.info({ stream: spec.name }, 'created JetStream stream');
    } catch (error) {
      if (!hasApiCode(error, STREAM_NAME_IN_USE)) throw error;
      await jsm.streams.update(spec.name, config);
    }
  }

  /** The durable consumer, created if it does not exist (an existing one keeps its position; its limits are updated). */
  async durable(spec: DurableSpec): Promise<Consumer> {
    const jsm = await this.manager();
    const limits = { ack_wait: nanos(spec.ackWaitMs), max_ack_pending: spec.maxAckPending };
    try {
      await jsm.consumers.info(spec.stream, spec.name);
      await jsm.consumers.update(spec.stream, spec.name, limits);
    } catch (error) {
      if (!hasApiCode(error, CONSUMER_NOT_FOUND)) throw error;
      await jsm.consumers.add(spec.stream, {
        durable_name: spec.name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: spec.startAt === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
        // Retries are decided by their handler (nak with a delay, term); never given up on by the server.
        max_deliver: -1,
        ...limits,
      });
      this.logger.info({ stream: spec.stream, consumer: spec.name }, 'created durable JetStream consumer');
    }
    return this.connection.jetstream().consumers.get(spec.stream, spec.name);
  }

  /**
   * Up to `max` messages from `consumer`, each handed on as it arrives (not when the pull
   * ends), for at most `expiresMs`; each is a stored event checked against its subject.
   */
  pullEvents(consumer: Consumer, max: number, expiresMs: number): AsyncIterable<WorkItem<StoredEvent>> {
    return this.pull(consumer, max, expiresMs, (message) => {
      const subject = message.subject as StreamSubject;
      const event = this.inbound.accept(message.subject, message.data, message.subject, storedPayloadCheck(subject));
      return event === undefined ? null : ({ seq: message.seq, subject, event } as StoredEvent);
    });
  }

  /** Up to `max` messages on `subject`'s work queue, as they arrive, each checked against `subject`'s contract. */
  pullMessages<S extends MessageSubject>(
    consumer: Consumer,
    subject: S,
    max: number,
    expiresMs: number,
  ): AsyncIterable<WorkItem<MessagePayloads[S]>> {
    const check = payloadCheckFor(subject);
    return this.pull(consumer, max, expiresMs, (message) => {
      const document = this.inbound.accept(subject, message.data, message.subject, check);
      return document === undefined ? null : (document as MessagePayloads[S]);
    });
  }

  private async *pull<T>(
    consumer: Consumer,
    max: number,
    expiresMs: number,
    read: (message: JsMsg) => T | null,
  ): AsyncIterable<WorkItem<T>> {
    const batch = await consumer.fetch({ max_messages: max, expires: Math.max(1000, expiresMs) });
    for await (const message of batch) yield { message, document: read(message) };
  }

  /** Pending (not yet delivered) and in-flight (delivered, not acknowledged) messages of a durable consumer. */
  async depth(stream: string, name: string): Promise<DurableDepth> {
    const info = await (await this.manager()).consumers.info(stream, name);
    return { pending: info.num_pending, inFlight: info.num_ack_pending };
  }

  /**
   * Publishes already-encoded messages into `stream` and waits for every acknowledgement:
   * per message, in order, null once stored (or already held: same id within the
   * duplicate window) or the error that kept it out.
   */
  async publishStored(stream: string, messages: readonly StoredMessage[], timeoutMs: number): Promise<(StoredPublishError | null)[]> {
    let publisher = this.publishers.get(stream);
    if (!publisher) {
      publisher = new StoredPublisher(this.connection, this.inboxPrefix, stream);
      this.publishers.set(stream, publisher);
    }
    const outcomes = await publisher.publish(messages, timeoutMs);
    return outcomes.map((outcome) => (outcome instanceof Error ? outcome : null));
  }
}

function hasApiCode(error: unknown, code: number): boolean {
  return error instanceof NatsError && error.api_error?.err_code === code;
}
