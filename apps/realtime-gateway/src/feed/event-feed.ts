import { EVENTS_STREAM } from '@beacon/contracts';
import { NatsService, ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { fromStreamEvent, type Outgoing } from './outgoing';

const decoder = new TextDecoder();
/** Longest a replay from JetStream may take before it is cut short. */
const READ_TIMEOUT_MS = 10_000;
/**
 * Longest the feed fans out queued events before it lets the event loop run: buffered
 * messages arrive as resolved promises, so without a break a backlog (a burst, or more
 * events than the clients' sockets take) would starve /health, /metrics, pings and new
 * connections until it is gone.
 */
const FANOUT_SLICE_MS = 20;

/** Where a resume can start: the events to replay, or why it cannot. */
export type Replay =
  | { ok: true; events: Outgoing[] }
  | { ok: false; reason: 'gone' | 'unknown' | 'too_far'; firstSeq: number; lastSeq: number };

/**
 * The catalog's stored events in stream order, for every client of this gateway: one
 * JetStream ordered consumer from the end of `BEACON_EVENTS` as it was at start (so each
 * event carries its stream position `seq`), and a ring of the most recent ones. A
 * client resuming from an older position is served from JetStream itself.
 */
@Injectable()
export class EventFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly ring: Outgoing[] = [];
  private readonly listeners = new Set<(event: Outgoing) => void>();
  private messages: ConsumerMessages | null = null;
  private position = 0;
  private started = false;

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(GATEWAY_ENV) private readonly config: GatewayEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** The stream position of the last event seen. */
  get lastSeq(): number {
    return this.position;
  }

  get ready(): boolean {
    return this.started;
  }

  onEvent(listener: (event: Outgoing) => void): void {
    this.listeners.add(listener);
  }

  /** The ring's events after `seq`, in order (a copy). */
  recentAfter(seq: number): Outgoing[] {
    return this.ring.filter((event) => (event.seq ?? 0) > seq);
  }

  async onApplicationBootstrap(): Promise<void> {
    const jsm = await this.nats.connection.jetstreamManager();
    const info = await jsm.streams.info(EVENTS_STREAM);
    this.position = info.state.last_seq;
    const consumer = await this.nats.connection.jetstream().consumers.get(EVENTS_STREAM, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.position + 1,
    });
    this.messages = await consumer.consume();
    this.started = true;
    void this.pump(this.messages);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
  }

  private async pump(messages: ConsumerMessages): Promise<void> {
    try {
      let sliceStart = performance.now();
      for await (const message of messages) {
        this.take(message);
        if (performance.now() - sliceStart >= FANOUT_SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'event feed stopped');
    }
  }

  private take(message: JsMsg): void {
    this.position = message.seq;
    const event = this.decode(message);
    if (!event) return;
    this.ring.push(event);
    if (this.ring.length > this.config.GATEWAY_REPLAY_EVENTS) this.ring.splice(0, this.ring.length - this.config.GATEWAY_REPLAY_EVENTS);
    for (const listener of this.listeners) listener(event);
  }

  private decode(message: JsMsg): Outgoing | null {
    try {
      return fromStreamEvent(message.subject, JSON.parse(decoder.decode(message.data)), message.seq);
    } catch {
      this.logger.warn({ seq: message.seq }, 'skipped a stream event that is not JSON');
      return null;
    }
  }

  /**
   * Every event after `since` up to the feed's current position: from the ring when it
   * reaches back that far, otherwise from JetStream. Positions the stream no longer holds
   * (aged out) or never held are refused, as is a gap larger than `GATEWAY_MAX_REPLAY`.
   */
  async replayAfter(since: number): Promise<Replay> {
    const lastSeq = this.position;
    const oldestInRing = this.ring[0]?.seq ?? lastSeq + 1;
    if (since > lastSeq) return { ok: false, reason: 'unknown', firstSeq: oldestInRing, lastSeq };
    if (since + 1 >= oldestInRing) return { ok: true, events: this.recentAfter(since) };
    const jsm = await this.nats.connection.jetstreamManager();
    const firstSeq = (await jsm.streams.info(EVENTS_STREAM)).state.first_seq;
    if (since + 1 < firstSeq) return { ok: false, reason: 'gone', firstSeq, lastSeq };
    if (lastSeq - since > this.config.GATEWAY_MAX_REPLAY) return { ok: false, reason: 'too_far', firstSeq, lastSeq };
    const older = await this.readStored(since + 1, oldestInRing - 1);
    return { ok: true, events: [...older, ...this.recentAfter(oldestInRing - 1)] };
  }

  /** Stored events from `from` to `to` (inclusive), read with a short-lived ordered consumer. */
  private async readStored(from: number, to: number): Promise<Outgoing[]> {
    const consumer = await this.nats.connection.jetstream().consumers.get(EVENTS_STREAM, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const events: Outgoing[] = [];
    const messages = await consumer.consume({ max_messages: 1000 });
    // Events deleted meanwhile (limits) would leave the loop waiting for `to`: bound it.
    const giveUp = setTimeout(() => messages.stop(), READ_TIMEOUT_MS);
    try {
      for await (const message of messages) {
        if (message.seq > to) break;
        const event = this.decode(message);
        if (event) events.push(event);
        if (message.seq >= to) break;
      }
    } finally {
      clearTimeout(giveUp);
      await messages.close();
    }
    return events;
  }
}
