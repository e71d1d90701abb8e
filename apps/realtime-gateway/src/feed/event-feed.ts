import { EVENTS_STREAM, type StoredEvent } from '@beacon/contracts';
import { NatsService, ROOT_LOGGER, type EventStreamReader, type Logger } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { fromStoredEvent, type Outgoing } from './outgoing';

/** How often the feed looks again for a `BEACON_EVENTS` that registry-api has not created yet. */
const STREAM_WAIT_MS = 1000;
/**
 * Longest the feed fans out queued events before it lets the event loop run: buffered
 * messages arrive as resolved promises, so without a break a backlog (a burst, or more
 * events than the clients' sockets take) would starve /health, /metrics, pings and new
 * connections until it is gone.
 */
const FANOUT_SLICE_MS = 20;

/** Where a resume can start: the events to replay, or why it cannot. */
export type Replay =
  { ok: true; events: Outgoing[] } | { ok: false; reason: 'gone' | 'unknown' | 'too_far'; firstSeq: number; lastSeq: number };

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
  private reader: EventStreamReader | null = null;
  private position = 0;
  private started = false;
  private stopped = false;

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

  /**
   * Follows the stream from its end. registry-api owns `BEACON_EVENTS` and creates it; when
   * this gateway starts first, it serves (not ready, with no events yet) and starts
   * following as soon as the stream appears.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (await this.follow()) return;
    this.logger.warn({ stream: EVENTS_STREAM }, 'waiting for the event stream (registry-api creates it)');
    void this.waitForStream();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.reader?.close();
  }

  /** Starts following the stream from its end; false while it does not exist. */
  private async follow(): Promise<boolean> {
    const state = await this.nats.eventStreamState();
    if (!state) return false;
    this.position = state.lastSeq;
    this.reader = await this.nats.followEventStream(this.position + 1);
    this.started = true;
    void this.pump(this.reader);
    return true;
  }

  private async waitForStream(): Promise<void> {
    while (!this.stopped) {
      await new Promise((resolve) => setTimeout(resolve, STREAM_WAIT_MS));
      try {
        if (this.stopped || (await this.follow())) return;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not read the event stream yet; retrying');
      }
    }
  }

  private async pump(reader: EventStreamReader): Promise<void> {
    try {
      let sliceStart = performance.now();
      for await (const stored of reader) {
        this.take(stored);
        if (performance.now() - sliceStart >= FANOUT_SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'event feed stopped');
    }
  }

  private take(stored: StoredEvent): void {
    this.position = stored.seq;
    const event = fromStoredEvent(stored);
    this.ring.push(event);
    if (this.ring.length > this.config.GATEWAY_REPLAY_EVENTS) this.ring.splice(0, this.ring.length - this.config.GATEWAY_REPLAY_EVENTS);
    for (const listener of this.listeners) listener(event);
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
    const firstSeq = (await this.nats.eventStreamState())?.firstSeq ?? lastSeq + 1;
    if (since + 1 < firstSeq) return { ok: false, reason: 'gone', firstSeq, lastSeq };
    if (lastSeq - since > this.config.GATEWAY_MAX_REPLAY) return { ok: false, reason: 'too_far', firstSeq, lastSeq };
    const older = (await this.nats.readEventStream(since + 1, oldestInRing - 1)).map(fromStoredEvent);
    return { ok: true, events: [...older, ...this.recentAfter(oldestInRing - 1)] };
  }
}
