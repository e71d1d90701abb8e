import type { Outgoing } from './outgoing';

/**
 * The most recent stored events, for clients resuming with `since=`, bounded both by count
 * and by the size of their encoded messages: events are as large as the records they
 * carry, so a count alone let 2,500 large updates hold 326 MB. The oldest go first; one
 * event larger than the whole budget is kept alone until the next arrives.
 */
export class ReplayRing {
  private readonly events: Outgoing[] = [];
  private heldBytes = 0;

  constructor(private readonly limits: { maxEvents: number; maxBytes: number }) {}

  /** Size of the encoded messages held (string length: a byte per character for the ASCII that JSON mostly is). */
  get bytes(): number {
    return this.heldBytes;
  }

  get size(): number {
    return this.events.length;
  }

  /** Stream position of the oldest event held, or undefined when empty. */
  get oldestSeq(): number | undefined {
    return this.events[0]?.seq ?? undefined;
  }

  push(event: Outgoing): void {
    this.events.push(event);
    this.heldBytes += event.json.length;
    while (this.events.length > 1 && (this.events.length > this.limits.maxEvents || this.heldBytes > this.limits.maxBytes)) {
      this.heldBytes -= this.events.shift()?.json.length ?? 0;
    }
  }

  /** Forgets every event (the stream they came from was recreated: their positions mean nothing now). */
  clear(): void {
    this.events.length = 0;
    this.heldBytes = 0;
  }

  /** The events after stream position `seq`, in order (a copy of the references). */
  after(seq: number): Outgoing[] {
    let start = 0;
    while (start < this.events.length && (this.events[start]?.seq ?? 0) <= seq) start += 1;
    return this.events.slice(start);
  }
}
