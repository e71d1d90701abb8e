/**
 * One answer shared by every caller for `freshMs`: at most one question in flight, and
 * none while the last answer is fresh. `/api/v1/health` asks mdns-announcer over NATS
 * (up to 250 ms); polled by load balancers and dashboards, and with 100,000 services
 * keeping that process busy now and then, every request waiting on its own round trip
 * made the health check as slow as the announcer's slowest moment.
 */
export class SharedAnswer<T> {
  private last: { at: number; value: T } | null = null;
  private pending: Promise<T> | null = null;

  /** `ask` must not reject: its failure is an answer too (and is shared as one). */
  constructor(
    private readonly ask: () => Promise<T>,
    private readonly freshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.last && this.now() - this.last.at < this.freshMs) return Promise.resolve(this.last.value);
    this.pending ??= this.ask()
      .then((value) => {
        this.last = { at: this.now(), value };
        return value;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}
