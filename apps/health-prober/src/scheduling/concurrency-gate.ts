/**
 * Runs tasks with at most `limit` at once; the rest wait in arrival order (urgent ones
 * first) and are never dropped. A finishing task hands its slot straight to the next
 * waiter, so a newcomer cannot overtake the queue.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly urgent: (() => void)[] = [];
  private queue: (() => void)[] = [];
  private head = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency limit must be a positive integer, got ${limit}`);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.urgent.length + this.queue.length - this.head;
  }

  async run<T>(task: () => Promise<T>, options: { urgent?: boolean } = {}): Promise<T> {
    await this.acquire(options.urgent ?? false);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private acquire(urgent: boolean): Promise<void> {
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => (urgent ? this.urgent : this.queue).push(resolve));
  }

  private release(): void {
    const next = this.urgent.shift() ?? this.dequeue();
    if (next) {
      next();
      return;
    }
    this.running -= 1;
    if (this.running === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** FIFO without `Array.shift`'s O(n) on a long queue: a moving head, compacted now and then. */
  private dequeue(): (() => void) | undefined {
    if (this.head >= this.queue.length) return undefined;
    const next = this.queue[this.head];
    this.head += 1;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return next;
  }
}
