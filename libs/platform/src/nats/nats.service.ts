import {
  EVENTS_STREAM,
  STREAM_SUBJECTS,
  WIRE_VERSION,
  validateInput,
  type EventSubject,
  type PayloadOf,
  type RequestErrorReply,
  type RequestReplies,
  type RequestSubject,
} from '@beacon/contracts';
import type { ClassConstructor } from 'class-transformer';
import {
  DiscardPolicy,
  ErrorCode,
  NatsError,
  RetentionPolicy,
  StorageType,
  connect,
  credsAuthenticator,
  nanos,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
  type StreamConfig,
  type Subscription,
} from 'nats';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { StartupError } from '../config/env';
import { DomainError, type DomainErrorKind } from '../http/errors';
import type { PlatformEnv } from '../config/platform-env';
import type { MetricsService } from '../metrics/metrics.service';

export type NatsSettings = Pick<
  PlatformEnv,
  | 'NATS_URL'
  | 'NATS_CREDS_FILE'
  | 'NATS_TLS_CA'
  | 'BEACON_EVENTS_MAX_AGE'
  | 'BEACON_EVENTS_MAX_BYTES'
  | 'BEACON_EVENTS_REPLICAS'
>;

/** A request was answered with an error document, timed out, or nobody listens. */
export class NatsRequestError extends Error {
  constructor(
    message: string,
    readonly code: 'no_responders' | 'timeout' | RequestErrorReply['error']['code'],
  ) {
    super(message);
    this.name = 'NatsRequestError';
  }
}

/** Thrown by a request handler to refuse a request it understood but cannot serve. */
export class RequestError extends Error {
  constructor(
    readonly code: 'bad_request' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(document: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(document));
}

function decode(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}

/** An error document: `error` is an object with a code (a probe result's `error` is a string). */
function isErrorReply(document: unknown): document is RequestErrorReply {
  if (typeof document !== 'object' || document === null || !('error' in document)) return false;
  const error = (document as { error: unknown }).error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}

/** The domain refusals a requester is told about; other kinds are the responder's failure. */
const REQUEST_ERROR_CODE_OF_KIND: Partial<Record<DomainErrorKind, RequestError['code']>> = {
  invalid: 'bad_request',
  not_found: 'not_found',
};

/** The code a handler's error is answered with, or null when it is not a refusal. */
function refusalCode(error: unknown): RequestError['code'] | null {
  if (error instanceof RequestError) return error.code;
  if (error instanceof DomainError) return REQUEST_ERROR_CODE_OF_KIND[error.kind] ?? null;
  return null;
}

function errorReply(code: RequestErrorReply['error']['code'], message: string, fields?: RequestErrorReply['error']['fields']): RequestErrorReply {
  return { v: WIRE_VERSION, error: { code, message, ...(fields ? { fields } : {}) } };
}

/**
 * Beacon's one NATS connection per process, spoken in plain JSON documents (no
 * framework envelope), so any NATS client can publish, subscribe and request.
 * Subjects and payloads are typed by libs/contracts.
 */
export class NatsService {
  private readonly subscriptions: Subscription[] = [];
  private readonly reconnectListeners = new Set<() => void>();
  /** Messages published this event-loop turn, handed to the client together (see `publish`). */
  private outbox: [string, Uint8Array][] = [];
  private isConnected = true;

  private constructor(
    readonly connection: NatsConnection,
    private readonly logger: Logger,
    private readonly metrics: MetricsService,
  ) {}

  /** Connects (waiting for the server if it is not up yet) and ensures the event stream. */
  static async connect(
    appName: string,
    settings: NatsSettings,
    logger: Logger,
    metrics: MetricsService,
  ): Promise<NatsService> {
    const options: ConnectionOptions = {
      servers: settings.NATS_URL.split(',').map((server) => server.trim()),
      name: appName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      waitOnFirstConnect: true,
      timeout: 5000,
    };
    if (settings.NATS_CREDS_FILE) {
      options.authenticator = credsAuthenticator(readFileSync(settings.NATS_CREDS_FILE));
    }
    if (settings.NATS_TLS_CA) options.tls = { caFile: settings.NATS_TLS_CA };

    const waiting = setTimeout(
      () => logger.warn({ nats: settings.NATS_URL }, 'still waiting for NATS; is nats-server running and NATS_URL right?'),
      3000,
    );
    const connection = await connect(options).finally(() => clearTimeout(waiting));
    const service = new NatsService(connection, logger, metrics);
    logger.info({ nats: connection.getServer() }, 'connected to NATS');
    service.watchStatus();
    await service.ensureEventStream(settings);
    return service;
  }

  get connected(): boolean {
    return this.isConnected && !this.connection.isClosed() && !this.connection.isDraining();
  }

  private watchStatus(): void {
    this.metrics.natsConnected.set(1);
    void (async () => {
      for await (const status of this.connection.status()) {
        if (status.type === 'disconnect') {
          this.isConnected = false;
          this.metrics.natsConnected.set(0);
          this.logger.warn({ server: status.data }, 'NATS disconnected; reconnecting');
        } else if (status.type === 'reconnect') {
          this.isConnected = true;
          this.metrics.natsConnected.set(1);
          this.logger.info({ server: status.data }, 'NATS reconnected');
          for (const listener of this.reconnectListeners) listener();
        } else if (status.type === 'error') {
          this.logger.error({ err: status.data }, 'NATS error');
        }
      }
    })();
    void this.connection.closed().then(() => {
      this.isConnected = false;
      this.metrics.natsConnected.set(0);
    });
  }

  /** Creates `BEACON_EVENTS` or brings its subjects and limits up to date. */
  private async ensureEventStream(settings: NatsSettings): Promise<void> {
    let jsm;
    try {
      jsm = await this.connection.jetstreamManager();
    } catch (error) {
      if (error instanceof NatsError && error.code === '503') {
        throw new StartupError(
          `NATS at ${settings.NATS_URL} has no JetStream, which Beacon needs for the ${EVENTS_STREAM} stream: ` +
            'start nats-server with -js (or "jetstream {}" in its config)',
        );
      }
      throw error;
    }
    const config: Partial<StreamConfig> & { name: string } = {
      name: EVENTS_STREAM,
      subjects: [...STREAM_SUBJECTS],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(settings.BEACON_EVENTS_MAX_AGE * 1000),
      max_bytes: settings.BEACON_EVENTS_MAX_BYTES,
      num_replicas: settings.BEACON_EVENTS_REPLICAS,
    };
    try {
      await jsm.streams.info(EVENTS_STREAM);
      await jsm.streams.update(EVENTS_STREAM, config);
    } catch (error) {
      if (!(error instanceof NatsError && error.api_error?.err_code === 10059)) throw error;
      await jsm.streams.add(config);
      this.logger.info({ stream: EVENTS_STREAM }, 'created JetStream stream');
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
      if (error instanceof NatsError && error.code === ErrorCode.NoResponders) {
        throw new NatsRequestError(`nobody answers ${subject}`, 'no_responders');
      }
      if (error instanceof NatsError && error.code === ErrorCode.Timeout) {
        throw new NatsRequestError(`${subject} timed out after ${timeoutMs} ms`, 'timeout');
      }
      throw error;
    }
    const document = decode(reply.data);
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
    this.listen(subject, options.queue, (message) => void this.answer(subject, message, requestClass, handler));
  }

  private listen(subject: string, queue: string | undefined, onMessage: (message: Msg) => void): Subscription {
    const subscription = this.connection.subscribe(subject, {
      queue,
      callback: (error, message) => {
        if (error) this.logger.error({ err: error, subject }, 'subscription error');
        else onMessage(message);
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
   * Receives JSON documents on a subject (wildcards allowed). The handler gets the parsed,
   * still unvalidated document; a message that is not JSON is logged and dropped.
   */
  subscribe(subject: string, handler: (document: unknown, subject: string) => void, options: { queue?: string } = {}): Subscription {
    return this.listen(subject, options.queue, (message) => {
      let document: unknown;
      try {
        document = decode(message.data);
      } catch {
        this.logger.warn({ subject: message.subject }, 'dropped a message that is not JSON');
        return;
      }
      handler(document, message.subject);
    });
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
