import type { Outgoing } from '../feed/outgoing';
import { wants, type ClientFilters } from './filters';
import type { Transport } from './transport';

/** Why a session stopped being served. */
export type Drop = 'slow';

/**
 * One connected client: its filters and where its stream stands. Events it should not
 * see twice are skipped by two watermarks: the stream position it has reached (`seq`,
 * after a replay) and the catalog revision its snapshot reflected (after a snapshot).
 * While a replay is read, live events wait in `pending`.
 */
export class Session {
  private pending: Outgoing[] | null = null;
  /** Stream events at or before this position were delivered (or not wanted). */
  private seq = 0;
  /** Service events at or before this revision are in the snapshot the client got. */
  private revision: number | null = null;

  constructor(
    readonly id: string,
    readonly transport: Transport,
    public filters: ClientFilters,
    private readonly limits: { maxBufferedBytes: number; onSent: (event: Outgoing) => void; onDrop: (reason: Drop) => void },
  ) {}

  /** Starts counting from a stream position (nothing at or before it will be sent). */
  startAt(seq: number): void {
    this.seq = Math.max(this.seq, seq);
  }

  /** The client holds the catalog as of `revision`: older service events are not news. */
  snapshotAt(revision: number): void {
    this.revision = revision;
  }

  /** Live events wait until `resume` (a replay is being read). */
  hold(): void {
    this.pending ??= [];
  }

  resume(): void {
    const pending = this.pending ?? [];
    this.pending = null;
    for (const event of pending) this.deliver(event);
  }

  /** Events read for this client (a replay), sent now even while live ones wait. */
  replay(events: readonly Outgoing[]): void {
    for (const event of events) this.deliverNow(event);
  }

  deliver(event: Outgoing): void {
    if (this.pending) this.pending.push(event);
    else this.deliverNow(event);
  }

  private deliverNow(event: Outgoing): void {
    if (event.seq !== null) {
      if (event.seq <= this.seq) return;
      this.seq = event.seq;
    }
    if (this.revision !== null && event.revision !== null && event.service !== null && event.revision <= this.revision) return;
    if (!wants(this.filters, event)) return;
    this.send(event);
  }

  /** Sends unless the client is too far behind, in which case it is cut off (1013) so it cannot slow the others. */
  private send(event: Outgoing): void {
    if (this.transport.bufferedBytes() > this.limits.maxBufferedBytes) {
      this.limits.onDrop('slow');
      this.transport.close(1013, 'too slow: reconnect with since=<last seq>');
      return;
    }
    this.transport.sendEvent(event);
    this.limits.onSent(event);
  }
}
