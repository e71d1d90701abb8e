import { SERVICE_STATUSES, type ServiceStatus, type StatusCounts } from '@beacon/contracts';
import { grow } from './columns';
import { DeadlineHeap } from './deadline-heap';

/** No record in the slot. */
const EMPTY = 255;
const EXPIRED = SERVICE_STATUSES.indexOf('expired');

/**
 * Counts by effective status (a record is `expired` once `expires_at <= now`, whatever
 * its stored status) without visiting every record per question. Stored statuses are
 * counted as records come and go; what time changes is tracked against a horizon, the
 * last `now` asked about: deadlines after it wait in a min-heap, deadlines at or before
 * it in a max-heap, and each question moves the records between the two by popping only
 * what lies between the old horizon and the new `now`, either way (the clock may step
 * back). A renewal or removal leaves its old heap entry behind, skipped by version when
 * it surfaces; the heaps are rebuilt when stale entries outnumber live ones.
 */
export class StatusTally {
  private statuses = new Uint8Array(1024).fill(EMPTY);
  private deadlines = new Float64Array(1024);
  private versions = new Uint32Array(1024);
  /** 1 when the slot's deadline is at or before the horizon. */
  private lapsedSlots = new Uint8Array(1024);
  private readonly stored = new Float64Array(SERVICE_STATUSES.length);
  private readonly lapsed = new Float64Array(SERVICE_STATUSES.length);
  private readonly ahead = new DeadlineHeap(1);
  private readonly behind = new DeadlineHeap(-1);
  /** Lapsed slots whose stored status is not yet `expired`: what the sweep has to mark. */
  private readonly due = new Set<number>();
  private horizon = -Infinity;
  private live = 0;
  private capacity = 0;

  add(slot: number, status: ServiceStatus, expiresAt: number): void {
    this.reserve(slot + 1);
    if (this.statuses[slot] !== EMPTY) this.remove(slot);
    const code = SERVICE_STATUSES.indexOf(status);
    this.statuses[slot] = code;
    this.deadlines[slot] = expiresAt;
    const version = ((this.versions[slot] as number) + 1) >>> 0;
    this.versions[slot] = version;
    this.stored[code] = (this.stored[code] as number) + 1;
    this.live += 1;
    if (expiresAt <= this.horizon) {
      this.lapse(slot);
      this.behind.push(expiresAt, slot, version);
    } else {
      this.ahead.push(expiresAt, slot, version);
    }
    if (this.ahead.size + this.behind.size > 2 * this.live + 1024) this.rebuild();
  }

  remove(slot: number): void {
    const code = this.statuses[slot];
    if (code === undefined || code === EMPTY) return;
    if (this.lapsedSlots[slot] === 1) this.unlapse(slot);
    this.stored[code] = (this.stored[code] as number) - 1;
    this.live -= 1;
    this.statuses[slot] = EMPTY;
    this.versions[slot] = ((this.versions[slot] as number) + 1) >>> 0;
  }

  countsAt(now: number): StatusCounts {
    this.moveTo(now);
    const counts = { total: this.live } as StatusCounts;
    let expired = this.stored[EXPIRED] as number;
    SERVICE_STATUSES.forEach((status, code) => {
      if (code === EXPIRED) return;
      const lapsed = this.lapsed[code] as number;
      counts[status] = (this.stored[code] as number) - lapsed;
      expired += lapsed;
    });
    counts.expired = expired;
    return counts;
  }

  /** Slots past their deadline at `now` whose stored status is not `expired`: soonest first, then by slot. */
  dueAt(now: number, limit: number): number[] {
    this.moveTo(now);
    return [...this.due].sort((a, b) => (this.deadlines[a] as number) - (this.deadlines[b] as number) || a - b).slice(0, limit);
  }

  private moveTo(now: number): void {
    if (now >= this.horizon) {
      for (let at = this.ahead.peekDeadline(); at !== undefined && at <= now; at = this.ahead.peekDeadline()) {
        const slot = this.ahead.peekSlot();
        const version = this.ahead.peekVersion();
        this.ahead.pop();
        if (this.versions[slot] !== version) continue;
        this.lapse(slot);
        this.behind.push(at, slot, version);
      }
    } else {
      for (let at = this.behind.peekDeadline(); at !== undefined && at > now; at = this.behind.peekDeadline()) {
        const slot = this.behind.peekSlot();
        const version = this.behind.peekVersion();
        this.behind.pop();
        if (this.versions[slot] !== version) continue;
        this.unlapse(slot);
        this.ahead.push(at, slot, version);
      }
    }
    this.horizon = now;
  }

  private lapse(slot: number): void {
    const code = this.statuses[slot] as number;
    this.lapsedSlots[slot] = 1;
    this.lapsed[code] = (this.lapsed[code] as number) + 1;
    if (code !== EXPIRED) this.due.add(slot);
  }

  private unlapse(slot: number): void {
    const code = this.statuses[slot] as number;
    this.lapsedSlots[slot] = 0;
    this.lapsed[code] = (this.lapsed[code] as number) - 1;
    this.due.delete(slot);
  }

  /** One entry per live slot again, in the heap its lapsed flag names. */
  private rebuild(): void {
    this.ahead.clear();
    this.behind.clear();
    for (let slot = 0; slot < this.capacity; slot += 1) {
      if (this.statuses[slot] === EMPTY) continue;
      const heap = this.lapsedSlots[slot] === 1 ? this.behind : this.ahead;
      heap.push(this.deadlines[slot] as number, slot, this.versions[slot] as number);
    }
  }

  private reserve(size: number): void {
    if (size <= this.capacity) return;
    const before = this.statuses.length;
    this.statuses = grow(this.statuses, size);
    this.statuses.fill(EMPTY, before);
    this.deadlines = grow(this.deadlines, size);
    this.versions = grow(this.versions, size);
    this.lapsedSlots = grow(this.lapsedSlots, size);
    this.capacity = Math.max(this.capacity, size);
  }
}
