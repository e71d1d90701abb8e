import { EVENTS_STREAM, type StoredEvent } from '@beacon/contracts';
import { CatalogView, MetricsService, NatsService, ROOT_LOGGER, type EventStreamReader, type Gauge, type Logger } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { fromStoredEvent, type Outgoing } from './outgoing';
import { ReplayRing } from './replay-ring';
import { ServiceScopes } from './service-scopes';
import { StreamReplay, listReplay, type ReplayEvents } from './stream-replay';

/** How often the feed looks again for a stream that is not there yet (registry-api creates it), or follows it again after it stopped. */
const RETRY_MS = 1000;
/**
 * Longest the feed fans out queued events before it lets the event loop run: buffered
 * messages arrive as resolved promises, so without a break a backlog (a burst, or more
 * events than the clients' sockets take) would starve /health, /metrics, pings and new
 * connections until it is gone.
 */
const FANOUT_SLICE_MS = 20;
/**
 * How long the consumer may report trouble (its stream deleted, heartbeats missed) before
 * the feed gives up on it and follows the stream again: an ordered consumer whose stream
 * was deleted and recreated waits for positions the new stream may never reach.
 */
const TROUBLE_MS = 5000;
/**
 * How often the feed checks that the stream has not been recreated (or purged) shorter than
 * where it stands: nats.js's ordered consumer may recreate itself on the new stream at the
 * old position and report no trouble, waiting for positions the new stream has not reached.
 */
const STREAM_CHECK_MS = 2000;

/** Where a resume can start: the events to replay, or why it cannot. */
export type Replay =
  { ok: true; events: ReplayEvents } | { ok: false; reason: 'gone' | 'unknown' | 'too_far'; firstSeq: number; lastSeq: number };

/**
 * The catalog's stored events in stream order, for every client of this gateway: one
 * JetStream ordered consumer from the end of `BEACON_EVENTS` as it was at start (so each
 * event carries its stream position `seq`), and a ring of the most recent ones, bounded
 * in count and bytes. A client resuming from an older position is served from JetStream
 * itself, a page at a time. Ready only while the consumer is following: when it stops,
 * the feed says so (`/ready` 503) and follows again from where it was.
 */
@Injectable()
export class EventFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly ring: ReplayRing;
  private readonly scopes: ServiceScopes;
  private readonly listeners = new Set<(event: Outgoing) => void>();
  private readonly resetListeners = new Set<() => void>();
  private readonly ringBytes: Gauge;
  private reader: EventStreamReader | null = null;
  private position = 0;
  private stopped = false;
  private troubleSince: number | null = null;
  /** What the reader had received at the last stream check that found the stream ahead of it (null: it was not). */
  private behindAt: number | null = null;
  private readonly watchdog: NodeJS.Timeout;
  private readonly streamCheck: NodeJS.Timeout;

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(GATEWAY_ENV) private readonly config: GatewayEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(MetricsService) metrics: MetricsService,
    @Inject(CatalogView) view: CatalogView,
  ) {
    this.ring = new ReplayRing({ maxEvents: config.GATEWAY_REPLAY_EVENTS, maxBytes: config.GATEWAY_REPLAY_BYTES });
    this.scopes = new ServiceScopes(view);
    this.ringBytes = metrics.gauge(
      'beacon_gateway_replay_bytes',
      'Size of the encoded events the replay ring holds (bounded by GATEWAY_REPLAY_BYTES)',
    );
    this.watchdog = setInterval(() => this.checkReader(), RETRY_MS);
    this.watchdog.unref();
    this.streamCheck = setInterval(() => void this.checkStream(), STREAM_CHECK_MS);
    this.streamCheck.unref();
  }

  /** The stream position of the last event seen. */
  get lastSeq(): number {
    return this.position;
  }

  /** Following the stream, and its consumer not reporting trouble. */
  get ready(): boolean {
    return this.reader !== null && this.reader.healthy;
  }

  onEvent(listener: (event: Outgoing) => void): void {
    this.listeners.add(listener);
  }

  /**
   * Hears that the stream was recreated (or purged) behind the feed: positions start over,
   * so every client's position, and any `since=` it holds, means nothing now.
   */
  onReset(listener: () => void): void {
    this.resetListeners.add(listener);
  }

  /** The ring's events after `seq`, in order (a copy). */
  recentAfter(seq: number): Outgoing[] {
    return this.ring.after(seq);
  }

  /**
   * Follows the stream from its end. registry-api owns `BEACON_EVENTS` and creates it; when
   * this gateway starts first, it serves (not ready, with no events yet) and starts
   * following as soon as the stream appears.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (await this.follow()) return;
    this.logger.warn({ stream: EVENTS_STREAM }, 'waiting for the event stream (registry-api creates it)');
    void this.followAgain();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearInterval(this.streamCheck);
    await this.reader?.close();
  }

  /** Closes a reader in trouble for `TROUBLE_MS`: its pump then ends, and the feed follows the stream again. */
  private checkReader(): void {
    const reader = this.reader;
    if (!reader || reader.healthy) {
      this.troubleSince = null;
      return;
    }
    this.troubleSince ??= Date.now();
    if (Date.now() - this.troubleSince < TROUBLE_MS) return;
    this.troubleSince = null;
    this.logger.warn({ stream: EVENTS_STREAM, seq: this.position }, 'event stream consumer in trouble; following the stream again');
    void reader.close().catch(() => undefined);
  }

  /**
   * Follows again when the consumer has stopped delivering: from the stream's first event
   * when the stream now ends before the position the feed stands at (recreated or purged),
   * or from where it stands when the stream was ahead of it at two checks in a row and the
   * feed did not move in between (a consumer stalled without reporting trouble, seen when a
   * NATS cluster node is killed under load).
   */
  private async checkStream(): Promise<void> {
    const reader = this.reader;
    if (!reader || this.stopped) return;
    try {
      const state = await this.nats.eventStreamState();
      if (this.reader !== reader || !state) return;
      // The reader's position counts every message it received, the malformed ones it dropped too.
      const received = reader.lastSeq;
      if (state.lastSeq > received) {
        const stalled = this.behindAt === received;
        this.behindAt = received;
        if (!stalled) return;
        this.behindAt = null;
        this.logger.warn(
          { stream: EVENTS_STREAM, seq: received, stream_last_seq: state.lastSeq },
          'event stream consumer delivers nothing while the stream is ahead; following the stream again',
        );
        await reader.close();
        return;
      }
      this.behindAt = null;
      if (state.lastSeq >= this.position) return;
      this.logger.warn(
        { stream: EVENTS_STREAM, seq: this.position, stream_last_seq: state?.lastSeq ?? null },
        'event stream recreated or purged behind the feed; following it again from its first event',
      );
      await reader.close();
    } catch (error) {
      this.logger.debug({ err: error }, 'could not read the event stream state');
    }
  }

  /**
   * Follows the stream from its end at start, or after the last event seen when following
   * again (from its first event if the stream was recreated shorter); false while it does not exist.
   */
  private async follow(): Promise<boolean> {
    const state = await this.nats.eventStreamState();
    if (!state) return false;
    // A stream that ends before where the feed stood was recreated (or purged): all it holds
    // came after, so the feed takes it from its first event rather than from its end.
    if (this.position === 0) this.position = state.lastSeq;
    else if (state.lastSeq < this.position) this.restartAt(state.firstSeq - 1);
    const reader = await this.nats.followEventStream(this.position + 1);
    this.reader = reader;
    void this.pump(reader);
    return true;
  }

  private restartAt(position: number): void {
    this.position = position;
    this.ring.clear();
    this.scopes.clear();
    this.ringBytes.set(0);
    for (const listener of this.resetListeners) listener();
  }

  private async followAgain(): Promise<void> {
    while (!this.stopped) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      try {
        if (this.stopped || (await this.follow())) return;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not follow the event stream yet; retrying');
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
    if (this.stopped || this.reader !== reader) return;
    this.reader = null;
    this.logger.error({ stream: EVENTS_STREAM, seq: this.position }, 'event feed ended; following the stream again');
    await reader.close().catch(() => undefined);
    void this.followAgain();
  }

  /** One event to the ring and every listener; a listener that throws is logged and the others still hear it. */
  private take(stored: StoredEvent): void {
    this.position = stored.seq;
    const event: Outgoing = { ...fromStoredEvent(stored), previous: this.scopes.advance(stored) };
    this.ring.push(event);
    this.ringBytes.set(this.ring.bytes);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, seq: stored.seq }, 'an event listener failed');
      }
    }
  }

  /**
   * Every event after `since` up to the feed's current position: from the ring when it
   * reaches back that far, otherwise read from JetStream a page at a time. Positions the
   * stream no longer holds (aged out) or never held are refused, as is a gap larger than
   * `GATEWAY_MAX_REPLAY`.
   */
  async replayAfter(since: number): Promise<Replay> {
    const lastSeq = this.position;
    const oldestInRing = this.ring.oldestSeq ?? lastSeq + 1;
    if (since > lastSeq) return { ok: false, reason: 'unknown', firstSeq: oldestInRing, lastSeq };
    if (since + 1 >= oldestInRing) return { ok: true, events: listReplay(this.ring.after(since)) };
    const firstSeq = (await this.nats.eventStreamState())?.firstSeq ?? lastSeq + 1;
    if (since + 1 < firstSeq) return { ok: false, reason: 'gone', firstSeq, lastSeq };
    if (lastSeq - since > this.config.GATEWAY_MAX_REPLAY) return { ok: false, reason: 'too_far', firstSeq, lastSeq };
    return { ok: true, events: new StreamReplay(this.nats, since + 1, lastSeq) };
  }
}
