/**
 * How many things happened in the last `windowSeconds`, by the second they happened at:
 * a ring of per-second buckets, so adding and counting cost the same however busy it is.
 * Times are epoch milliseconds; one older than the window is not kept.
 */
export class RecentCount {
  private readonly seconds: Float64Array;
  private readonly counts: Float64Array;

  constructor(readonly windowSeconds = 60) {
    // One spare bucket: the current second is still filling while the oldest one counts.
    this.seconds = new Float64Array(windowSeconds + 1).fill(-1);
    this.counts = new Float64Array(windowSeconds + 1);
  }

  add(at: number, count = 1): void {
    const second = Math.floor(at / 1000);
    const slot = second % this.seconds.length;
    const held = this.seconds[slot] as number;
    if (held === second) {
      this.counts[slot] = (this.counts[slot] as number) + count;
    } else if (held < second) {
      // The bucket held a second at least a whole window older: start it afresh.
      this.seconds[slot] = second;
      this.counts[slot] = count;
    }
    // held > second: a newer second owns the bucket, so `at` is older than the window.
  }

  /** What was added for the `windowSeconds` seconds up to and including `now`'s (later ones too). */
  count(now: number): number {
    const oldest = Math.floor(now / 1000) - this.windowSeconds;
    let total = 0;
    for (let slot = 0; slot < this.seconds.length; slot += 1) {
      if ((this.seconds[slot] as number) > oldest) total += this.counts[slot] as number;
    }
    return total;
  }

  clear(): void {
    this.seconds.fill(-1);
    this.counts.fill(0);
  }
}
