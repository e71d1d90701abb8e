import {
  EVENTS_STREAM,
  payloadCheckFor,
  replyCheckFor,
  storedPayloadCheck,
  validateInput,
  type EventPayloads,
  type EventSubject,
  type PayloadOf,
  type PayloadOn,
  type RequestReplies,
  type RequestSubject,
  type StoredEvent,
  type StreamSubject,
  type SubscribeSubject,
} from '@beacon/contracts';
import type { ClassConstructor } from 'class-transformer';
import {
  DeliverPolicy,
  ErrorCode,
  Events,
  NatsError,
  connect,
  type JetStreamManager,
  type JsMsg,
  type Msg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import type { Logger } from 'pino';
import { StartupError } from '../config/env';
import type { PlatformEnv } from '../config/platform-env';
import type { MetricsService } from '../metrics/metrics.service';
import { authorizationFailure, isAuthorizationError, natsConnectOptions, watchAuthorization } from './connect-options';
import { EventStreamPages, EventStreamReader, isStreamNotFound, prepareEventStream, type EventStreamDuty } from './event-stream';
import { Inbound } from './inbound';
import { LeaseBucket } from './lease-bucket';
import { NatsRequestError, errorReply, isErrorReply, refusalCode } from './request-errors';
import { replySubjectProblem } from './reply-subject';
import { DurableWork } from './durable-work';
import { StoredPublisher, type StoredMessage } from './stored-publisher';

export type NatsSettings = Pick<
  PlatformEnv,
  'NATS_URL' | 'NATS_CREDS_FILE' | 'NATS_TLS_CA' | 'BEACON_EVENTS_MAX_AGE' | 'BEACON_EVENTS_MAX_BYTES' | 'BEACON_JETSTREAM_REPLICAS'
> &
  Partial<Pick<PlatformEnv, 'NATS_USER' | 'NATS_PASSWORD_FILE'>>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(document: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(document));
}

function decode(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}

/** Longest `readEventStream` waits for the events it was asked for (some may have aged out meanwhile). */
const STREAM_READ_TIMEOUT_MS = 10_000;

export interface SubscribeOptions {
  /** Replicas in one queue group share the messages. */
  queue?: string;
  /** Hears each dropped message's problem too (besides the shared metric), for a consumer's own counts. */
  onDropped?: (problem: string) => void;
}

/**
 * Beacon's one NATS connection per process, spoken in plain JSON documents (no
 * framework envelope), so any NATS client can publish, subscribe and request.
 * Subjects and payloads are typed by libs/contracts, and everything read is checked
 * against its contract before a handler sees it. Apps never touch the client itself:
 * what they need of JetStream (the event stream, deduplicated publishing, the KV lease)
 * is a method here.
 */
export class NatsService {
  private readonly subscriptions: Subscription[] = [];
  private readonly reconnectListeners = new Set<() => void>();
  /** Messages published this event-loop turn, handed to the client together (see `publish`). */
  private outbox: [string, Uint8Array][] = [];
  private isConnected = true;
  private readonly inbound: Inbound;
  private readonly stored: StoredPublisher;
  private readonly work: DurableWork;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly settings: NatsSettings,
    private readonly logger: Logger,
    private readonly metrics: MetricsService,
    inboxPrefix: string,
  ) {
    this.inbound = new Inbound(metrics, logger);
    this.stored = new StoredPublisher(connection, inboxPrefix, EVENTS_STREAM);
    this.work = new DurableWork(connection, this.inbound, inboxPrefix, logger);
  }

  /** Work queues and durable consumers shared by replicas (webhook delivery), read through the same checks. */
  durableWork(): DurableWork {
    return this.work;
  }

  /**
   * Connects (waiting for the server if it is not up yet) and does this app's part for
   * the event stream (`eventStream`, see `EventStreamDuty`: registry-api provisions it).
   */
  static async connect(
    appName: string,
    settings: NatsSettings,
    logger: Logger,
    metrics: MetricsService,
    eventStream: EventStreamDuty = 'none',
  ): Promise<NatsService> {
    const options = natsConnectOptions(appName, settings);
    const waiting = setTimeout(
      () => logger.warn({ nats: settings.NATS_URL }, 'still waiting for NATS; is nats-server running and NATS_URL right?'),
      3000,
    );
    const connection = await connect(options)
      .catch((error: unknown) => {
        // nats.js gives up after the server refuses the same credentials twice: say whose.
        throw isAuthorizationError(error) ? new StartupError(authorizationFailure(settings)) : error;
      })
      .finally(() => clearTimeout(waiting));
    watchAuthorization(connection, settings, logger);
    const service = new NatsService(connection, settings, logger, metrics, options.inboxPrefix ?? '_INBOX');
    logger.info({ nats: connection.getServer() }, 'connected to NATS');
    service.watchStatus();
    if (eventStream !== 'none') await prepareEventStream(await service.jetstreamManager(), settings, eventStream, logger);
    return service;
  }

  get connected(): boolean {
    return this.isConnected && !this.connection.isClosed() && !this.connection.isDraining();
  }

  /** True once the connection is closed for good (drained at shutdown). */
  get closed(): boolean {
    return this.connection.isClosed();
  }

  private watchStatus(): void {
    this.metrics.natsConnected.set(1);
    void (async () => {
      for await (const status of this.connection.status()) {
        if (status.type === Events.Disconnect) {
          this.isConnected = false;
          this.metrics.natsConnected.set(0);
          this.logger.warn({ server: status.data }, 'NATS disconnected; reconnecting');
        } else if (status.type === Events.Reconnect) {
          this.isConnected = true;
          this.metrics.natsConnected.set(1);
          this.logger.info({ server: status.data }, 'NATS reconnected');
          for (const listener of this.reconnectListeners) listener();
        } else if (status.type === Events.Error) {
          this.logger.error({ err: status.data }, 'NATS error');
        }
      }
    })();
    void this.connection.closed().then(() => {
      this.isConnected = false;
      this.metrics.natsConnected.set(0);
    });
  }

  /** JetStream's manager; a server without JetStream stops the app, saying how to fix it. */
  private async jetstreamManager(): Promise<JetStreamManager> {
    try {
      return await this.connection.jetstreamManager();
    } catch (error) {
      if (error instanceof NatsError && error.code === '503') {
        throw new StartupError(
          `NATS at ${this.settings.NATS_URL} has no JetStream, which Beacon needs for the ${EVENTS_STREAM} stream: ` +
            'start nats-server with -js (or "jetstream {}" in its config)',
        );
      }
      throw error;
    }
  }

  /**
   * Publishes a plain-JSON event (encoded now, in order). Messages of one event-loop turn
   * go to the client together, at the end of the turn: nats.js writes what it holds at
   * each microtask, so events published from separate I/O callbacks (one probe result
   * each) would otherwise cost one socket write apiece. Buffered by the client while
   * reconnecting.
   */
  publish<S extends EventSubject>(subject: S, payload: PayloadOf<S>): void {
    this.outbox.push([subject, encode(payload)]);
    if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
  }

  private flushOutbox(): void {
    const batch = this.outbox;
    this.outbox = [];
    for (const [subject, data] of batch) {
      try {
        this.connection.publish(subject, data);
        this.metrics.eventsPublished.inc({ subject });
      } catch (error) {
        // Only a closed connection throws here (during shutdown); the change is stored,
        // and every consumer's periodic resync recovers the missed event.
        this.logger.error({ err: error, subject }, 'could not publish event');
      }
    }
  }

  /**
   * Publishes an event into `BEACON_EVENTS` and resolves once the stream has stored it;
   * throws when it did not (no stream, NATS away, no answer within `timeoutMs`). A retry
   * with the same `messageId` inside the stream's duplicate window is stored once, so a
   * caller can retry until it succeeds. Core subscribers receive it as well.
   */
  async publishStored<S extends StreamSubject>(
    subject: S,
    payload: EventPayloads[S],
    options: { messageId: string; timeoutMs: number },
  ): Promise<void> {
    await this.connection.jetstream({ timeout: options.timeoutMs }).publish(subject, encode(payload), { msgID: options.messageId });
    this.metrics.eventsPublished.inc({ subject });
  }

  /**
   * Sends events already encoded (`data`, JSON) into `BEACON_EVENTS`, all at once and in
   * order on the one connection, and waits for every acknowledgement. Resolves, for each
   * event in order, null when the stream stored it (or had it already: same id within its
   * duplicate window) or the error that kept it out.
   */
  async publishStoredBatch(events: readonly (StoredMessage & { subject: StreamSubject })[], timeoutMs: number): Promise<(Error | null)[]> {
    const outcomes = await this.stored.publish(events, timeoutMs);
    return outcomes.map((outcome, index) => {
      if (outcome instanceof Error) return outcome;
      if (!outcome.duplicate) this.metrics.eventsPublished.inc({ subject: (events[index] as StoredMessage).subject });
      return null;
    });
  }

  /** Creates `BEACON_EVENTS`, or brings it up to date, as registry-api does when it connects. */
  async provisionEventStream(): Promise<void> {
    await prepareEventStream(await this.jetstreamManager(), this.settings, 'provision', this.logger);
  }

  /** Where `BEACON_EVENTS` stands, or null while it does not exist (registry-api creates it). */
  async eventStreamState(): Promise<{ firstSeq: number; lastSeq: number } | null> {
    const jsm = await this.jetstreamManager();
    try {
      const { state } = await jsm.streams.info(EVENTS_STREAM);
      return { firstSeq: state.first_seq, lastSeq: state.last_seq };
    } catch (error) {
      if (isStreamNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Follows `BEACON_EVENTS` from position `fromSeq`: the events stored there and every one
   * stored after, in order, until the reader is closed (an ordered consumer, which
   * recreates itself after a reconnect and never skips or repeats).
   */
  async followEventStream(fromSeq: number, options: { maxMessages?: number } = {}): Promise<EventStreamReader> {
    const consumer = await this.connection.jetstream().consumers.get(EVENTS_STREAM, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: fromSeq,
    });
    // Pulls that expire every 5 s ask for heartbeats every 2.5 s, so a consumer lost with its
    // NATS node (a cluster member killed) is noticed and recreated within ~5 s, not 30 s.
    const messages = await consumer.consume({ expires: 5000, ...(options.maxMessages ? { max_messages: options.maxMessages } : {}) });
    return new EventStreamReader(messages, (message) => this.acceptStored(message), fromSeq);
  }

  /**
   * Reads `BEACON_EVENTS` from position `fromSeq` a page (at most `pageBytes`, raised to
   * the server's largest message so every message fits in one) per `next()`, pulled only
   * when asked: for readers that go at their own client's pace.
   */
  async pageEventStream(fromSeq: number, pageBytes: number): Promise<EventStreamPages> {
    const consumer = await this.connection.jetstream().consumers.get(EVENTS_STREAM, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: fromSeq,
    });
    const largest = (this.connection.info?.max_payload ?? 0) + 64 * 1024;
    return new EventStreamPages(consumer, (message) => this.acceptStored(message), fromSeq, Math.max(pageBytes, largest));
  }

  /**
   * The stored events at positions `from` to `to` (inclusive). Bounded in time: events
   * deleted meanwhile (the stream's limits) would otherwise leave it waiting for `to`.
   */
  async readEventStream(from: number, to: number): Promise<StoredEvent[]> {
    const reader = await this.followEventStream(from, { maxMessages: 1000 });
    const events: StoredEvent[] = [];
    const giveUp = setTimeout(() => reader.stop(), STREAM_READ_TIMEOUT_MS);
    try {
      for await (const stored of reader) {
        if (stored.seq > to) break;
        events.push(stored);
        if (reader.lastSeq >= to) break;
      }
    } finally {
      clearTimeout(giveUp);
      await reader.close();
    }
    return events;
  }

  private acceptStored(message: JsMsg): StoredEvent | null {
    const subject = message.subject as StreamSubject;
    const document = this.inbound.accept(EVENTS_STREAM, message.data, message.subject, storedPayloadCheck(subject));
    return document === undefined ? null : ({ seq: message.seq, subject, event: document } as StoredEvent);
  }

  /**
   * The JetStream KV bucket `name` for leases, created with `ttlMs` (the lease) and
   * BEACON_JETSTREAM_REPLICAS replicas if it does not exist (an existing one with fewer is
   * logged); its `ttlMs` is the TTL the store enforces. `timeoutMs` bounds every operation.
   */
  async leaseBucket(name: string, options: { ttlMs: number; timeoutMs: number }): Promise<LeaseBucket> {
    const wanted = this.settings.BEACON_JETSTREAM_REPLICAS;
    const js = this.connection.jetstream({ timeout: options.timeoutMs });
    const kv = await js.views.kv(name, { ttl: options.ttlMs, history: 1, replicas: wanted });
    return LeaseBucket.open(kv, { wanted, logger: this.logger });
  }

  /** Sends a request and returns the reply document; errors become `NatsRequestError`. */
  async request<S extends RequestSubject>(
    subject: S,
    payload: RequestReplies[S]['request'],
    timeoutMs: number,
  ): Promise<RequestReplies[S]['reply']> {
    let reply: Msg;
    try {
      reply = await this.connection.request(subject, encode(payload), { timeout: timeoutMs });
    } catch (error) {
      if (error instanceof NatsError && error.code === (ErrorCode.NoResponders as string)) {
        throw new NatsRequestError(`nobody answers ${subject}`, 'no_responders');
      }
      if (error instanceof NatsError && error.code === (ErrorCode.Timeout as string)) {
        throw new NatsRequestError(`${subject} timed out after ${timeoutMs} ms`, 'timeout');
      }
      throw error;
    }
    // An error document passes to be thrown below; anything else is held to the reply's contract.
    const check = replyCheckFor(subject);
    const document = this.inbound.accept(subject, reply.data, subject, (reply, on) => (isErrorReply(reply) ? null : check(reply, on)));
    if (document === undefined) throw new NatsRequestError(`${subject} was answered with a malformed reply`, 'internal');
    if (isErrorReply(document)) throw new NatsRequestError(document.error.message, document.error.code);
    return document as RequestReplies[S]['reply'];
  }

  /**
   * Answers requests on `subject` in a queue group: the request is validated with its
   * contract class, the handler's result is the reply; a bad request or a failing
   * handler gets an error document, never silence.
   */
  serve<S extends RequestSubject>(
    subject: S,
    requestClass: ClassConstructor<RequestReplies[S]['request']> | null,
    handler: (request: RequestReplies[S]['request']) => Promise<RequestReplies[S]['reply']>,
    options: { queue?: string } = {},
  ): void {
    this.listen(subject, options.queue, (message) => {
      this.answer(subject, message, requestClass, handler).catch((error: unknown) => this.inbound.failed(subject, message.subject, error));
    });
  }

  private listen(subject: string, queue: string | undefined, onMessage: (message: Msg) => void): Subscription {
    const subscription = this.connection.subscribe(subject, {
      queue,
      callback: (error, message) => {
        if (error) {
          this.logger.error({ err: error, subject }, 'subscription error');
          return;
        }
        try {
          onMessage(message);
        } catch (failure) {
          this.inbound.failed(subject, message.subject, failure);
        }
      },
    });
    this.subscriptions.push(subscription);
    return subscription;
  }

  private async answer<S extends RequestSubject>(
    subject: S,
    message: Msg,
    requestClass: ClassConstructor<RequestReplies[S]['request']> | null,
    handler: (request: RequestReplies[S]['request']) => Promise<RequestReplies[S]['reply']>,
  ): Promise<void> {
    const replyProblem = message.reply ? replySubjectProblem(message.reply) : null;
    if (replyProblem) {
      this.inbound.refusedReply(subject, message.subject, replyProblem);
      return;
    }
    const respond = (document: unknown): void => {
      if (message.reply) message.respond(encode(document));
    };
    let input: unknown;
    try {
      input = message.data.length === 0 ? {} : decode(message.data);
    } catch {
      respond(errorReply('bad_request', 'request body is not valid JSON'));
      return;
    }
    let request = input as RequestReplies[S]['request'];
    if (requestClass) {
      const validated = validateInput(requestClass, input);
      if (!validated.ok) {
        const summary = validated.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
        respond(errorReply('bad_request', `invalid request: ${summary}`, validated.errors));
        return;
      }
      request = validated.value;
    }
    try {
      respond(await handler(request));
    } catch (error) {
      const code = refusalCode(error);
      if (code) {
        respond(errorReply(code, (error as Error).message));
        return;
      }
      this.logger.error({ err: error, subject }, 'request handler failed');
      respond(errorReply('internal', 'the request could not be completed; see the responder log'));
    }
  }

  /** Called after each reconnect (subscriptions are already back): catch up on what was missed. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /**
   * Receives the events on a subject or subject family (`beacon.events.service.*`): the
   * subject decides the payload type, and each message is checked against it (the
   * contracts' `payloadCheckFor`) before the handler sees it. A message that is not JSON
   * or not that payload is counted in `beacon_nats_messages_dropped_total`, warned about,
   * and skipped.
   */
  subscribe<S extends SubscribeSubject>(
    subject: S,
    handler: (event: PayloadOn<S>, subject: string) => void,
    options: SubscribeOptions = {},
  ): Subscription {
    const check = payloadCheckFor(subject);
    return this.listen(subject, options.queue, (message) => {
      const document = this.inbound.accept(subject, message.data, message.subject, check, options.onDropped);
      if (document !== undefined) handler(document as PayloadOn<S>, message.subject);
    });
  }

  /**
   * Counts messages on `subject` without reading them (`onMessage` gets nothing of the
   * message): for tallies such as events per minute, where decoding and checking each
   * payload would cost far more than the count is worth.
   */
  tally(subject: SubscribeSubject, onMessage: () => void): Subscription {
    return this.listen(subject, undefined, () => onMessage());
  }

  /** Stops taking requests, flushes what is pending and closes. */
  async drain(): Promise<void> {
    this.flushOutbox();
    if (this.connection.isClosed() || this.connection.isDraining()) return;
    try {
      await this.connection.drain();
    } catch (error) {
      this.logger.warn({ err: error }, 'NATS drain failed; closing');
      await this.connection.close();
    }
  }
}
