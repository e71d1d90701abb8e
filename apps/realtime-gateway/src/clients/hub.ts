import { Subjects } from '@beacon/contracts';
import { CatalogView, NatsService, ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { EventFeed } from '../feed/event-feed';
import { control, fromRenewal, type Outgoing } from '../feed/outgoing';
import { describeFilters, matchesService, type ConnectOptions } from './filters';
import { GatewayMetrics } from './gateway.metrics';
import { Session } from './session';
import { snapshotParts } from './snapshot';
import type { Transport } from './transport';

/** How long a snapshot waits for the catalog copy's first sync before sending what it has. */
const VIEW_WAIT_MS = 10_000;

/**
 * How long shutdown waits for clients to take their close: the transports destroy a
 * socket that does not read after the same grace, so waiting longer gains nothing.
 */
const DRAIN_MS = 5000;

/** The WebSocket close code and reason every client gets when the gateway stops. */
const GOING_AWAY = { code: 1001, reason: 'server shutting down' } as const;
/** The event stream was recreated: positions start over, so clients reconnect and take a snapshot. */
const STREAM_RESET = { code: 1012, reason: 'event stream recreated: reconnect with snapshot=true' } as const;

/**
 * Every connected client, WebSocket or SSE: opens sessions (greeting, then a snapshot or
 * a replay, then live events with no gap and no duplicate), fans each event out once
 * serialized, and keeps connections alive.
 */
@Injectable()
export class Hub implements OnModuleInit, BeforeApplicationShutdown {
  private readonly sessions = new Map<string, Session>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(
    @Inject(EventFeed) private readonly feed: EventFeed,
    @Inject(CatalogView) private readonly view: CatalogView,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_ENV) private readonly config: GatewayEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  onModuleInit(): void {
    this.feed.onEvent((event) => this.broadcast(event));
    this.feed.onReset(() => {
      this.logger.warn({ clients: this.sessions.size }, 'event stream recreated; closing every client so it starts over');
      for (const session of [...this.sessions.values()]) {
        session.transport.close(STREAM_RESET.code, STREAM_RESET.reason);
        this.close(session);
      }
    });
    // Renewals are not stored in the stream: they come from core NATS, for clients that ask.
    this.nats.subscribe(Subjects.serviceRenewed, (event) => this.broadcast(fromRenewal(event)));
    this.every(this.config.WS_PING_INTERVAL, 'ws');
    this.every(this.config.SSE_KEEPALIVE_INTERVAL, 'sse');
  }

  /**
   * Before Nest closes the HTTP server, which would otherwise wait on the open SSE
   * responses and then cut every socket: each client gets a 1001 close (SSE: the stream
   * ends), and shutdown waits until they are gone, so clients reconnect elsewhere at once.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const session of this.sessions.values()) session.transport.close(GOING_AWAY.code, GOING_AWAY.reason);
    await waitUntil(() => this.sessions.size === 0, DRAIN_MS);
  }

  /** A new client: registered now (so nothing published meanwhile is missed), served as it asked. */
  open(transport: Transport, options: ConnectOptions): Session {
    const session: Session = new Session(randomUUID(), transport, options.filters, {
      maxBufferedBytes: this.config.WS_MAX_BUFFERED_BYTES,
      maxPendingBytes: this.config.GATEWAY_REPLAY_BYTES,
      onSent: (event) => this.metrics.messageSent(transport.kind, event.publishedAt),
      onDrop: () => {
        this.metrics.clientDropped(transport.kind);
        this.close(session);
      },
    });
    this.sessions.set(session.id, session);
    this.metrics.clients.inc({ transport: transport.kind });
    if (this.stopping) {
      // Arrived between the signal and the server's close: sent on its way like the others.
      transport.close(GOING_AWAY.code, GOING_AWAY.reason);
      return session;
    }
    session.control(
      'connection_established',
      control('connection_established', {
        message: 'Connected to Beacon real-time updates',
        client_id: session.id,
        seq: this.feed.lastSeq,
        filters: describeFilters(options.filters),
      }),
    );
    if (options.since !== null || options.snapshot) {
      session.hold();
      void this.catchUp(session, options).catch((error: unknown) => {
        this.logger.error({ err: error, client: session.id }, 'could not prepare a client; closing it');
        transport.close(1011, 'could not prepare the stream');
        this.close(session);
      });
    } else {
      session.startAt(this.feed.lastSeq);
    }
    return session;
  }

  /** The client went away or was cut off. */
  close(session: Session): void {
    session.end();
    if (this.sessions.delete(session.id)) this.metrics.clients.dec({ transport: session.transport.kind });
  }

  /** One event to every session; a session that fails on it is logged and counted, and the others still get it. */
  private broadcast(event: Outgoing): void {
    for (const session of this.sessions.values()) {
      try {
        session.deliver(event);
      } catch (error) {
        this.metrics.deliveryFailed(session.transport.kind);
        this.logger.error({ err: error, client: session.id, type: event.type }, 'could not deliver an event to a client');
      }
    }
  }

  /**
   * The replay or snapshot a client asked for, written as fast as the client reads it;
   * live events wait in the session meanwhile.
   */
  private async catchUp(session: Session, options: ConnectOptions): Promise<void> {
    if (options.since !== null) await this.sendReplay(session, options.since);
    else await this.sendSnapshot(session);
    if (session.open) session.resume();
  }

  private async sendReplay(session: Session, since: number): Promise<void> {
    session.startAt(since);
    const replay = await this.feed.replayAfter(since);
    if (replay.ok && (!(await session.replay(replay.events)) || replay.events.complete)) return;
    const refusal = replay.ok ? { reason: 'gone' as const, firstSeq: since + 1, lastSeq: this.feed.lastSeq } : replay;
    session.control(
      'resync_required',
      control('resync_required', {
        message: RESYNC_MESSAGES[refusal.reason],
        since,
        first_seq: refusal.firstSeq,
        last_seq: refusal.lastSeq,
      }),
    );
    session.startAt(refusal.lastSeq);
  }

  /**
   * The catalog as this gateway's copy holds it, then the stored events the copy has not
   * applied yet (newer revisions, from the ring), all taken in one synchronous step: from
   * there on, live events continue exactly where the snapshot ends. The snapshot is
   * encoded and written a part at a time, as the client reads.
   */
  private async sendSnapshot(session: Session): Promise<void> {
    await waitUntil(() => this.view.ready, VIEW_WAIT_MS);
    const revision = this.view.revision;
    const seq = this.feed.lastSeq;
    const services = [...this.view.values()].filter((service) => matchesService(session.filters, service));
    const newer = this.feed.recentAfter(0).filter((event) => event.service !== null && (event.revision ?? 0) > revision);
    if (!(await session.stream('snapshot', snapshotParts(services, { seq, revision })))) return;
    session.snapshotAt(revision);
    if (!(await session.replay(newer))) return;
    session.startAt(seq);
  }

  private every(seconds: number, kind: Transport['kind']): void {
    const timer = setInterval(() => {
      for (const session of this.sessions.values()) if (session.transport.kind === kind) session.keepalive();
    }, seconds * 1000);
    timer.unref();
    this.timers.push(timer);
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

const RESYNC_MESSAGES = {
  gone: 'The stream no longer holds the events after that position: reconnect with snapshot=true',
  unknown: 'That position is not in the stream (it may have been recreated): reconnect with snapshot=true',
  too_far: 'Too many events to replay from that position: reconnect with snapshot=true',
} as const;
