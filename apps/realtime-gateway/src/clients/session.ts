import type { Outgoing } from '../feed/outgoing';
import { wants, type ClientFilters } from './filters';
import type { Transport } from './transport';

/** Why a session stopped being served. */
export type Drop = 'slow';

export interface SessionLimits {
  /** Bytes waiting for the client (`WS_MAX_BUFFERED_BYTES`) beyond which it is cut off as too slow. */
  maxBufferedBytes: number;
  /** Bytes of messages held while its catch-up is sent, beyond which it is cut off as too slow. */
  maxPendingBytes: number;
  onSent: (event: Outgoing) => void;
  onDrop: (reason: Drop) => void;
}

/** A reply held while a catch-up is sent. */
interface Reply {
  type: string;
  json: string;
}

/** How often a catch-up waiting for room looks at the client's buffer again. */
const ROOM_POLL_MS = 25;
/** A catch-up whose client takes nothing for this long is cut off (a snapshot or replay to a client that never reads). */
const STALL_MS = 10_000;

/**
 * One connected client: its filters, where its stream stands, and its byte budget. Every
 * message it gets (events, greetings, errors, snapshots, keepalives) goes through
 * `send`, so a client that does not read is cut off (1013) once
 * `maxBufferedBytes` wait for it, whatever it was sent.
 *
 * Events it should not see twice are skipped by two watermarks: the stream position it
 * has reached (`seq`, after a replay) and the catalog revision its snapshot reflected
 * (after a snapshot). While a catch-up is sent, live events and replies wait in `pending`
 * (bounded in bytes too); the catch-up itself is written only as fast as the client reads.
 */
export class Session {
  private pending: (Outgoing | Reply)[] | null = null;
  private pendingBytes = 0;
  private ended = false;
  /** Stream events at or before this position were delivered (or not wanted). */
  private seq = 0;
  /** Service events at or before this revision are in the snapshot the client got. */
  private revision: number | null = null;

  constructor(
    readonly id: string,
    readonly transport: Transport,
    public filters: ClientFilters,
    private readonly limits: SessionLimits,
  ) {}

  /** Still served (not cut off, not disconnected). */
  get open(): boolean {
    return !this.ended;
  }

  /** The client went away: nothing more is written, and a catch-up in progress stops. */
  end(): void {
    this.ended = true;
    this.pending = null;
  }

  /** Starts counting from a stream position (nothing at or before it will be sent). */
  startAt(seq: number): void {
    this.seq = Math.max(this.seq, seq);
  }

  /** The client holds the catalog as of `revision`: older service events are not news. */
  snapshotAt(revision: number): void {
    this.revision = revision;
  }

  /** Live events and replies wait until `resume` (a catch-up is being sent). */
  hold(): void {
    this.pending ??= [];
  }

  resume(): void {
    const pending = this.pending ?? [];
    this.pending = null;
    this.pendingBytes = 0;
    for (const item of pending) {
      if ('seq' in item) this.deliverNow(item);
      else this.control(item.type, item.json);
    }
  }

  deliver(event: Outgoing): void {
    if (this.pending) this.enqueue(event, event.json.length);
    else this.deliverNow(event);
  }

  /** A reply to the client's own message (error, pong, subscribed): after the catch-up when one is being sent. */
  reply(type: string, json: string): void {
    if (this.pending) this.enqueue({ type, json }, json.length);
    else this.control(type, json);
  }

  /** A control message sent now (the greeting, a catch-up's resync_required). */
  control(type: string, json: string): void {
    this.send(() => this.transport.sendControl(type, json));
  }

  keepalive(): void {
    this.send(() => this.transport.keepalive());
  }

  /** Catch-up events, each sent once the client has room for it; false when the session was cut off or ended meanwhile. */
  async replay(events: AsyncIterable<Outgoing> | Iterable<Outgoing>): Promise<boolean> {
    for await (const event of events) {
      if (!(await this.room())) return false;
      this.deliverNow(event);
    }
    return this.open;
  }

  /** One control message written part by part, each once the client has room for it (a snapshot). */
  async stream(type: string, parts: Iterable<string>): Promise<boolean> {
    if (!(await this.room())) return false;
    this.transport.beginMessage(type);
    for (const part of parts) {
      if (!(await this.room())) return false;
      this.transport.writePart(part);
    }
    this.transport.endMessage();
    return true;
  }

  private enqueue(item: Outgoing | Reply, bytes: number): void {
    this.pending?.push(item);
    this.pendingBytes += bytes;
    if (this.pendingBytes > this.limits.maxPendingBytes) this.cut();
  }

  private deliverNow(event: Outgoing): void {
    if (event.seq !== null) {
      if (event.seq <= this.seq) return;
      this.seq = event.seq;
    }
    if (this.revision !== null && event.revision !== null && event.service !== null && event.revision <= this.revision) return;
    if (!wants(this.filters, event)) return;
    if (this.send(() => this.transport.sendEvent(event))) this.limits.onSent(event);
  }

  /** Writes unless the client is too far behind, in which case it is cut off (1013) so it cannot slow the others or fill memory. */
  private send(write: () => void): boolean {
    if (this.ended) return false;
    if (this.transport.bufferedBytes() > this.limits.maxBufferedBytes) {
      this.cut();
      return false;
    }
    write();
    return true;
  }

  /**
   * Waits until the client's buffer is back under its budget; cuts the client off when it
   * takes nothing for `STALL_MS`. False when the session is no longer served.
   */
  private async room(): Promise<boolean> {
    let buffered = this.transport.bufferedBytes();
    let deadline = Date.now() + STALL_MS;
    while (!this.ended && buffered > this.limits.maxBufferedBytes) {
      if (Date.now() > deadline) {
        this.cut();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, ROOM_POLL_MS));
      const now = this.transport.bufferedBytes();
      if (now < buffered) deadline = Date.now() + STALL_MS;
      buffered = now;
    }
    return !this.ended;
  }

  private cut(): void {
    if (this.ended) return;
    this.end();
    this.limits.onDrop('slow');
    this.transport.close(1013, 'too slow: reconnect with since=<last seq>');
  }
}
