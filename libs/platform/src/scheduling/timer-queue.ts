/** The longest delay `setTimeout` honours (about 24.8 days); later deadlines wait in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Entry {
  due: number;
  key: string;
  seq: number;
}

/**
 * Deadlines by key on one timer: a min-heap of (due, key) and a single `setTimeout` for
 * the earliest. Rescheduling or cancelling a key is O(log n) (stale heap entries are
 * skipped when they surface), so 10,000 services cost one timer, not 10,000.
 */
export class TimerQueue {
  private readonly heap: Entry[] = [];
  private readonly current = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private seq = 0;
  private stopped = false;

  /** `onDue` receives every key whose deadline has passed, earliest first. */
  constructor(private readonly onDue: (keys: { key: string; due: number }[]) => void) {}

  get size(): number {
    return this.current.size;
  }

  has(key: string): boolean {
    return this.current.has(key);
  }

  /** Sets (or moves) the deadline of `key` to `due` (epoch ms). */
  schedule(key: string, due: number): void {
    this.seq += 1;
    this.current.set(key, this.seq);
    this.push({ due, key, seq: this.seq });
    if (due < this.timerDue) this.arm();
  }

  cancel(key: string): void {
    this.current.delete(key);
  }

  clear(): void {
    this.current.clear();
    this.heap.length = 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Takes every entry due at `now` out of the queue and hands it to `onDue`. */
  private fire(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = Date.now();
    const due: { key: string; due: number }[] = [];
    while (this.heap.length > 0 && (this.heap[0] as Entry).due <= now) {
      const entry = this.pop();
      if (this.current.get(entry.key) !== entry.seq) continue;
      this.current.delete(entry.key);
      due.push({ key: entry.key, due: entry.due });
    }
    this.arm();
    if (due.length > 0) this.onDue(due);
  }

  private arm(): void {
    if (this.stopped) return;
    while (this.heap.length > 0 && this.current.get((this.heap[0] as Entry).key) !== (this.heap[0] as Entry).seq) this.pop();
    const next = this.heap[0];
    if (!next) return;
    if (this.timer && next.due >= this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = next.due;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, next.due - Date.now()), MAX_DELAY_MS));
    this.timer.unref();
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as Entry).due <= entry.due) break;
      heap[index] = heap[parent] as Entry;
      index = parent;
    }
    heap[index] = entry;
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0] as Entry;
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && (heap[right] as Entry).due < (heap[left] as Entry).due ? right : left;
        if ((heap[child] as Entry).due >= last.due) break;
        heap[index] = heap[child] as Entry;
        index = child;
      }
      heap[index] = last;
    }
    return top;
  }
}
