import type { NatsService } from '@beacon/platform';
import { fromStoredEvent, type Outgoing } from './outgoing';

/** What the client library may buffer for one resuming client: a page of the stream, bounded in bytes. */
const PAGE_BYTES = 2 * 1024 * 1024;
/**
 * Longest the read waits for the next stored event while the client is not the one being
 * waited for: events deleted meanwhile (the stream's limits) would otherwise leave it
 * waiting for `to` for good.
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
 * Stored events `from` to `to` read from JetStream a page at a time, as fast as the client
 * takes them: the iteration pauses while the client's socket is full, so a resume from far
 * back never holds more than a page in memory (it once read up to 100,000 events at once).
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
    const reader = await this.nats.followEventStream(this.from, { maxBytes: PAGE_BYTES });
    let idle = setTimeout(() => reader.stop(), IDLE_MS);
    try {
      for await (const stored of reader) {
        clearTimeout(idle);
        if (stored.seq > this.to) break;
        yield fromStoredEvent(stored);
        if (reader.lastSeq >= this.to) break;
        idle = setTimeout(() => reader.stop(), IDLE_MS);
      }
    } finally {
      clearTimeout(idle);
      this.reached = reader.lastSeq >= this.to;
      await reader.close();
    }
  }
}
