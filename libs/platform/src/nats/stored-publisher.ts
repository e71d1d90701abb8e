import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from 'nats';

/** One event for `BEACON_EVENTS`, already encoded, with its JetStream message id. */
export interface StoredMessage {
  subject: string;
  data: string;
  messageId: string;
}

/** What JetStream answers a publish with (or the server, when no stream takes the subject). */
interface PubAck {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; description?: string };
}

/** An acknowledgement that did not come, or refused the message. */
export class StoredPublishError extends Error {
  constructor(
    readonly reason: 'timeout' | 'no_stream' | 'refused' | 'disconnected',
    message: string,
  ) {
    super(message);
    this.name = 'StoredPublishError';
  }
}

/**
 * What a publish's reply says: stored in `stream` (and whether it was a duplicate), or why
 * not. Anything else on the reply subject (a forged or malformed reply) is a refusal, never
 * an exception: the message is sent again, and JetStream stores it once.
 */
export function readAck(message: Pick<Msg, 'data' | 'headers'>, stream: string): { duplicate: boolean } | StoredPublishError {
  let status: { error: boolean; code: number };
  try {
    // nats.js decodes headers lazily and throws on malformed ones.
    status = { error: message.headers?.hasError ?? false, code: message.headers?.code ?? 0 };
  } catch {
    return new StoredPublishError('refused', 'the reply has malformed headers');
  }
  if (status.error && status.code === 503) {
    return new StoredPublishError('no_stream', 'no stream stores this subject (503 no responders)');
  }
  let ack: PubAck;
  try {
    ack = JSON.parse(new TextDecoder().decode(message.data)) as PubAck;
  } catch {
    return new StoredPublishError('refused', 'the acknowledgement is not JSON');
  }
  if (ack === null || typeof ack !== 'object') return new StoredPublishError('refused', 'the acknowledgement is not an object');
  if (ack.error) {
    const code = ack.error.code;
    return new StoredPublishError(
      code === 503 ? 'no_stream' : 'refused',
      `JetStream refused it: ${ack.error.description ?? code ?? 'unknown error'}`,
    );
  }
  if (typeof ack.seq !== 'number') return new StoredPublishError('refused', 'the acknowledgement has no sequence');
  if (ack.stream !== stream) return new StoredPublishError('refused', `the acknowledgement is not from ${stream}`);
  return { duplicate: ack.duplicate === true };
}

/**
 * Publishes into a JetStream stream and waits for the acknowledgements, many at a time:
 * plain publishes with a reply subject under one wildcard subscription, matched by their
 * token, and one timer per batch. nats.js's `js.publish` does the same one message at a
 * time, at the cost of a request object, a timer and two captured errors per message,
 * which on the registration path cost about a tenth of registry-api's CPU.
 */
export class StoredPublisher {
  private subscription: Subscription | null = null;
  private prefix = '';
  private next = 0;
  private readonly waiting = new Map<string, (outcome: { duplicate: boolean } | StoredPublishError) => void>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly inboxPrefix: string,
    private readonly stream: string,
  ) {}

  /** Per message, in order: null once stored (`duplicate` counted by the caller) or the error that kept it out. */
  async publish(messages: readonly StoredMessage[], timeoutMs: number): Promise<({ duplicate: boolean } | StoredPublishError)[]> {
    if (this.connection.isClosed() || this.connection.isDraining()) {
      return messages.map(() => new StoredPublishError('disconnected', 'the NATS connection is closed'));
    }
    this.subscribe();
    const outcomes: ({ duplicate: boolean } | StoredPublishError | undefined)[] = messages.map(() => undefined);
    const tokens: string[] = [];
    await new Promise<void>((resolve) => {
      let left = messages.length;
      if (left === 0) return resolve();
      const timer = setTimeout(() => {
        for (const [index, token] of tokens.entries()) {
          if (outcomes[index] === undefined) {
            outcomes[index] = new StoredPublishError('timeout', `no acknowledgement within ${timeoutMs} ms`);
            this.waiting.delete(token);
          }
        }
        resolve();
      }, timeoutMs);
      const encoder = new TextEncoder();
      for (const [index, message] of messages.entries()) {
        const token = String(this.next++);
        tokens.push(token);
        this.waiting.set(token, (outcome) => {
          this.waiting.delete(token);
          outcomes[index] = outcome;
          left -= 1;
          if (left === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        const header = headers();
        header.set('Nats-Msg-Id', message.messageId);
        try {
          this.connection.publish(message.subject, encoder.encode(message.data), { reply: `${this.prefix}.${token}`, headers: header });
        } catch (error) {
          this.waiting.get(token)?.(new StoredPublishError('disconnected', error instanceof Error ? error.message : String(error)));
        }
      }
    });
    return outcomes.map((outcome) => outcome ?? new StoredPublishError('timeout', 'no acknowledgement'));
  }

  private subscribe(): void {
    if (this.subscription && !this.subscription.isClosed()) return;
    this.prefix = createInbox(this.inboxPrefix);
    this.subscription = this.connection.subscribe(`${this.prefix}.*`, {
      // Whatever arrives here must not throw into nats.js's read loop, which would stop
      // reading the connection: a permission error comes with no message at all.
      callback: (error, message) => {
        if (error || typeof message?.subject !== 'string') return;
        this.waiting.get(message.subject.slice(this.prefix.length + 1))?.(readAck(message, this.stream));
      },
    });
  }
}
