import type { NatsService } from '@beacon/platform';
import { fromStoredEvent, type Outgoing } from './outgoing';
import { NO_COPY, ServiceScopes } from './service-scopes';

/** One page of the stream, read when the client has taken the previous one. */
const PAGE_BYTES = 1024 * 1024;
/** How long one page read waits for events that are not there (yet). */
const PAGE_WAIT_MS = 1000;
/**
 * Longest the read waits for the next stored event: events deleted meanwhile (the
 * stream's limits) would otherwise leave it waiting for `to` for good.
 */
const IDLE_MS = 10_000;

/** The events one resume replays, in order; `complete` says whether they reached the position asked for. */
export interface ReplayEvents extends AsyncIterable<Outgoing> {
  readonly complete: boolean;
}

/** Events already in memory (the replay ring's), complete by construction. */
export function listReplay(events: readonly Outgoing[]): ReplayEvents {
  return {
    complete: true,
    async *[Symbol.asyncIterator]() {
      yield* events;
    },
  };
}

/**
 * Stored events `from` to `to` read from JetStream a page at a time, each page only once
 * the client has taken the one before: a resume from far back never holds more than a
 * page per client in memory (it once read up to 100,000 events at once). Each event carries
 * the version before it when the replay has read one (else `unknown`: the client may hold it).
 */
export class StreamReplay implements ReplayEvents {
  private reached = false;

  constructor(
    private readonly nats: NatsService,
    private readonly from: number,
    private readonly to: number,
  ) {}

  get complete(): boolean {
    return this.reached;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Outgoing> {
    const pages = await this.nats.pageEventStream(this.from, PAGE_BYTES);
    const scopes = new ServiceScopes(NO_COPY);
    let progressAt = Date.now();
    try {
      while (pages.lastSeq < this.to && Date.now() - progressAt < IDLE_MS) {
        const before = pages.lastSeq;
        for (const stored of await pages.next(PAGE_WAIT_MS)) {
          if (stored.seq > this.to) return;
          yield { ...fromStoredEvent(stored), previous: scopes.advance(stored) };
        }
        if (pages.lastSeq > before) progressAt = Date.now();
      }
    } finally {
      this.reached = pages.lastSeq >= this.to;
      await pages.close();
    }
  }
}
