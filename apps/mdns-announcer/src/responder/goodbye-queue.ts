import { recordIdentity, type DnsRecord } from '../records/dns';

/**
 * Goodbyes (RFC 6762 §10.1) waiting for the responder's ticker, by group, oldest first.
 * Bounded: past `capacity` groups the oldest is dropped (its records then leave caches
 * when their TTL runs out, as if the goodbye had been lost on the wire). Announcing a
 * record again cancels its pending goodbye, whichever group it was queued under (a
 * service registered again gets a new id but the same names): sent after the
 * announcement, the goodbye would withdraw the service that came back.
 */
export class GoodbyeQueue {
  private readonly pending = new Map<string, Map<string, DnsRecord>>();
  /** Which group's goodbye withdraws a record, by `recordIdentity`. */
  private readonly owners = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  /** Groups waiting. */
  get size(): number {
    return this.pending.size;
  }

  /** Queues goodbyes for `records` of group `key`; returns how many groups were dropped to make room. */
  add(key: string, records: readonly DnsRecord[]): number {
    if (records.length === 0) return 0;
    let dropped = 0;
    let waiting = this.pending.get(key);
    if (!waiting) {
      while (this.pending.size >= this.capacity) {
        const oldest = this.pending.keys().next();
        if (oldest.done) break;
        this.forget(oldest.value);
        dropped += 1;
      }
      waiting = new Map();
      this.pending.set(key, waiting);
    }
    for (const record of records) {
      const identity = recordIdentity(record);
      this.cancelOne(identity);
      waiting.set(identity, record);
      this.owners.set(identity, key);
    }
    return dropped;
  }

  /** `records` are announced again: none of them is withdrawn. */
  cancel(records: readonly DnsRecord[]): void {
    for (const record of records) this.cancelOne(recordIdentity(record));
  }

  /** Takes up to `limit` groups' goodbyes, oldest first. */
  take(limit: number): DnsRecord[][] {
    const taken: DnsRecord[][] = [];
    for (const [key, waiting] of this.pending) {
      if (taken.length >= limit) break;
      taken.push([...waiting.values()]);
      this.forget(key);
    }
    return taken;
  }

  private cancelOne(identity: string): void {
    const key = this.owners.get(identity);
    if (key === undefined) return;
    this.owners.delete(identity);
    const waiting = this.pending.get(key);
    waiting?.delete(identity);
    if (waiting?.size === 0) this.pending.delete(key);
  }

  private forget(key: string): void {
    for (const identity of this.pending.get(key)?.keys() ?? []) this.owners.delete(identity);
    this.pending.delete(key);
  }
}
