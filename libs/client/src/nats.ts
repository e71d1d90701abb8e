/**
 * `@beacon/client/nats`: Beacon's catalog and incident events from the `BEACON_EVENTS`
 * JetStream stream, typed by subject, for server-side users. Each payload is checked
 * against its subject's contract; one that fails is skipped and counted, never fatal.
 */
import {
  EVENTS_STREAM,
  STREAM_SUBJECTS,
  storedPayloadCheck,
  type EventPayloads,
  type EventSubject,
  type PayloadOf,
  type StreamSubject,
} from '@beacon/contracts';
import { DeliverPolicy, type ConsumerMessages, type JsMsg, type NatsConnection, type OrderedConsumerOptions } from 'nats';

export type { EventPayloads, EventSubject, PayloadOf, StreamSubject };
export { EVENTS_STREAM, STREAM_SUBJECTS };

/** Where to start: a stream position, a time (the first event stored at or after it), only new events, or everything kept. */
export type EventsFrom = { seq: number } | { time: Date | string } | 'new' | 'all';

export interface SubscribeEventsOptions<S extends StreamSubject> {
  /** Default: every subject `BEACON_EVENTS` keeps. */
  subjects?: S[];
  /** Default `'new'`. */
  from?: EventsFrom;
  /** Called for each message skipped because its payload is not what its subject carries. */
  onSkipped?: (problem: { subject: string; seq: number; reason: string }) => void;
}

/** One stored event: `payload`'s type follows `subject`. */
export type BeaconEvent<S extends StreamSubject = StreamSubject> = {
  [K in S]: { subject: K; seq: number; time: Date; payload: PayloadOf<K> };
}[S];

export interface EventSubscription<S extends StreamSubject> extends AsyncIterable<BeaconEvent<S>> {
  /** Messages skipped so far (a payload that failed its subject's check, or was not JSON). */
  readonly skipped: number;
  /** Stops the consumer; a running `for await` ends after what is buffered. */
  close(): Promise<void>;
}

/**
 * How long the server keeps a subscription's consumer once nobody pulls from it. nats.js never
 * deletes an ordered consumer on close, and its own default keeps each for 5 minutes: a program
 * that subscribes often piled them up. A consumer dropped while the connection is down is
 * recreated by nats.js from its last position, so nothing is skipped.
 */
const CONSUMER_IDLE_MS = 10_000;

/** The ordered consumer's start, from `from`. */
export function startOptions(from: EventsFrom = 'new'): Partial<OrderedConsumerOptions> {
  if (from === 'new') return { deliver_policy: DeliverPolicy.New };
  // Not DeliverPolicy.All: nats.js's ordered consumer adds its start position to it, which the server refuses.
  if (from === 'all') return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 };
  if ('seq' in from) {
    if (!Number.isInteger(from.seq) || from.seq < 1)
      throw new RangeError(`from.seq must be a stream position (an integer ≥ 1), not ${from.seq}`);
    return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq };
  }
  const time = new Date(from.time);
  if (Number.isNaN(time.getTime())) throw new RangeError(`from.time must be a date, not ${String(from.time)}`);
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: time.toISOString() };
}

/**
 * The consumer's server-side filter for `subjects`: one subject, else none (the client
 * filters). A list (`filter_subjects`) needs nats-server 2.10, and a family wildcard is
 * refused by 2.9 as not a subset of the stream's subjects; either way nats.js's ordered
 * consumer keeps retrying and delivers nothing.
 */
export function serverFilter(subjects: readonly string[]): string | undefined {
  return subjects.length === 1 ? subjects[0] : undefined;
}

/**
 * Follows `BEACON_EVENTS` with an ordered consumer (recreated by nats.js after a reconnect,
 * never skipping or repeating), from a sequence, a time, now, or the start. Iterate once.
 */
export function subscribeEvents<S extends StreamSubject = StreamSubject>(
  nc: NatsConnection,
  options: SubscribeEventsOptions<S> = {},
): EventSubscription<S> {
  const start = startOptions(options.from);
  const subjects = new Set<string>(options.subjects && options.subjects.length > 0 ? options.subjects : STREAM_SUBJECTS);
  const filter = serverFilter([...subjects]);
  const decoder = new TextDecoder();
  let messages: ConsumerMessages | undefined;
  let closed = false;
  let started = false;
  let skipped = 0;
  let markClosed: () => void = () => undefined;
  const closedSignal = new Promise<'closed'>((resolve) => (markClosed = () => resolve('closed')));

  const accept = (message: JsMsg): BeaconEvent<S> | undefined => {
    if (!subjects.has(message.subject)) return undefined;
    const skip = (reason: string): undefined => {
      skipped += 1;
      options.onSkipped?.({ subject: message.subject, seq: message.seq, reason });
      return undefined;
    };
    let document: unknown;
    try {
      document = JSON.parse(decoder.decode(message.data));
    } catch {
      return skip('not JSON');
    }
    const problem = storedPayloadCheck(message.subject)(document, message.subject);
    if (problem !== null) return skip(problem);
    const time = new Date(Math.floor(message.info.timestampNanos / 1e6));
    return { subject: message.subject, seq: message.seq, time, payload: document } as BeaconEvent<S>;
  };

  async function* iterate(): AsyncGenerator<BeaconEvent<S>> {
    if (started) throw new Error('subscribeEvents: a subscription can be iterated once');
    started = true;
    if (closed) return;
    const consumer = await nc.jetstream().consumers.get(EVENTS_STREAM, {
      ...start,
      ...(filter === undefined ? {} : { filterSubjects: filter }),
      inactive_threshold: CONSUMER_IDLE_MS,
    });
    if (closed) return;
    // consume() waits until the server accepts the consumer: a close() meanwhile must still end
    // the loop, and the consumer it opens late must be closed too (left running, it kept its
    // server-side consumer and pulled messages nobody reads).
    const consuming = consumer.consume();
    const opened = await Promise.race([consuming, closedSignal]);
    if (opened === 'closed') {
      void consuming.then((late) => late.close()).catch(() => undefined);
      return;
    }
    messages = opened;
    if (closed) await messages.close();
    try {
      for await (const message of messages) {
        const event = accept(message);
        if (event) yield event;
      }
    } finally {
      // A `break` out of the loop ends the consumer too.
      await messages.close();
    }
  }

  const close = async (): Promise<void> => {
    closed = true;
    markClosed();
    await messages?.close();
  };
  // nats.js's ordered consumer waits for ever once its connection is closed: a `for await` loop
  // would never end when the program closes its connection (drain() did end it).
  void nc.closed().then(close, close);

  return {
    get skipped() {
      return skipped;
    },
    [Symbol.asyncIterator]: iterate,
    close,
  };
}
