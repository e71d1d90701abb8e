import { LANES, laneLimits, type Lane, type LaneLimits } from './lanes';
import { MinHeap } from './min-heap';

/** What the gate needs to know about one check to give it a slot. */
export interface Ticket {
  lane: Lane;
  /** Host name or address as written in the target: the unit of `perHost`. */
  host: string;
  /** Its place in line (epoch ms: when the check fell due, plus any penalty); -Infinity for a check someone is waiting on now. */
  due: number;
}

export interface FairGateOptions {
  /** Checks in flight at most (`PROBE_CONCURRENCY`). */
  concurrency: number;
  /** New and slow checks in flight at most against one host (`PROBE_PER_HOST_CONCURRENCY`). */
  perHost: number;
}

interface Waiter extends Ticket {
  seq: number;
  start: () => void;
}

/** Earliest due first; among equals, first come first served. */
const earlier = (a: Waiter, b: Waiter): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq);

/**
 * Slots for checks, handed out earliest-due first, within three caps: all checks
 * (`concurrency`), the lane caps (see lanes.ts), so slow and unknown targets can never hold
 * every slot, and the new and slow checks of one host (`perHost`), so one host that stops
 * answering cannot fill even those. Fast checks are not capped by host: a host that answers
 * promptly holds its slots for milliseconds, and capping it would only slow a site with
 * many services on one machine. A check that cannot start only because its host is at
 * its cap waits aside ("parked") and does not hold up the checks behind it. Nothing is
 * dropped: every waiter starts eventually.
 */
export class FairGate {
  private readonly limits: LaneLimits;
  private readonly running: Record<Lane, number> = { fast: 0, new: 0, slow: 0 };
  private readonly queues = new Map<Lane, MinHeap<Waiter>>(LANES.map((lane) => [lane, new MinHeap<Waiter>(earlier)]));
  private readonly perHostRunning = new Map<string, number>();
  private readonly parked = new Map<string, Map<Lane, MinHeap<Waiter>>>();
  private parkedCount = 0;
  private seq = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: FairGateOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
    }
    this.limits = laneLimits(options.concurrency);
  }

  /** Checks running now. */
  get active(): number {
    return this.running.fast + this.running.new + this.running.slow;
  }

  /** Checks running now in one lane. */
  activeIn(lane: Lane): number {
    return this.running[lane];
  }

  /** Checks waiting for a slot. */
  get waiting(): number {
    let queued = this.parkedCount;
    for (const queue of this.queues.values()) queued += queue.size;
    return queued;
  }

  async run<T>(ticket: Ticket, task: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => {
      this.seq += 1;
      this.queueOf(ticket.lane).push({ ...ticket, seq: this.seq, start });
      this.pump();
    });
    try {
      return await task();
    } finally {
      this.release(ticket);
    }
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts waiters while a slot is free and some lane may use it. */
  private pump(): void {
    while (this.active < this.limits.all) {
      const next = this.nextAllowed();
      if (!next) return;
      this.queueOf(next.lane).pop();
      const hostCapped = next.lane !== 'fast';
      if (hostCapped && (this.perHostRunning.get(next.host) ?? 0) >= this.options.perHost) {
        this.park(next);
        continue;
      }
      this.running[next.lane] += 1;
      if (hostCapped) this.perHostRunning.set(next.host, (this.perHostRunning.get(next.host) ?? 0) + 1);
      next.start();
    }
  }

  /** The earliest-due head among the lanes whose caps let one more in. */
  private nextAllowed(): Waiter | undefined {
    let best: Waiter | undefined;
    for (const lane of LANES) {
      const head = this.queueOf(lane).peek();
      if (head && this.laneOpen(lane) && (!best || earlier(head, best))) best = head;
    }
    return best;
  }

  private laneOpen(lane: Lane): boolean {
    const unproven = this.running.new + this.running.slow;
    if (lane === 'fast') return true;
    if (lane === 'new') return unproven < this.limits.unproven;
    return unproven < this.limits.unproven && this.running.slow < this.limits.slow;
  }

  private release(ticket: Ticket): void {
    this.running[ticket.lane] -= 1;
    if (ticket.lane !== 'fast') {
      const left = (this.perHostRunning.get(ticket.host) ?? 1) - 1;
      if (left > 0) this.perHostRunning.set(ticket.host, left);
      else this.perHostRunning.delete(ticket.host);
      this.unpark(ticket.host);
    }
    this.pump();
    if (this.active === 0 && this.waiting === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private park(waiter: Waiter): void {
    let lanes = this.parked.get(waiter.host);
    if (!lanes) {
      lanes = new Map();
      this.parked.set(waiter.host, lanes);
    }
    let heap = lanes.get(waiter.lane);
    if (!heap) {
      heap = new MinHeap<Waiter>(earlier);
      lanes.set(waiter.lane, heap);
    }
    heap.push(waiter);
    this.parkedCount += 1;
  }

  /**
   * A slot of `host` came free: the earliest parked waiter of each lane goes back in line
   * (one per lane, as any one of them may be the one whose lane is open; the rest would
   * only park again).
   */
  private unpark(host: string): void {
    const lanes = this.parked.get(host);
    if (!lanes) return;
    for (const [lane, heap] of lanes) {
      const waiter = heap.pop();
      if (waiter) {
        this.parkedCount -= 1;
        this.queueOf(lane).push(waiter);
      }
      if (heap.size === 0) lanes.delete(lane);
    }
    if (lanes.size === 0) this.parked.delete(host);
  }

  private queueOf(lane: Lane): MinHeap<Waiter> {
    return this.queues.get(lane) as MinHeap<Waiter>;
  }
}
