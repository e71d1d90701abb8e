import { TimerQueue } from '@beacon/platform';
import { sameSchedule, type ProbeTarget } from '../probe-target';
import { ConcurrencyGate } from './concurrency-gate';
import { firstCheckDelay, jitteredInterval, type Random } from './jitter';

export interface ProbeSchedulerOptions {
  /** Checks in flight at most (`PROBE_CONCURRENCY`). */
  concurrency: number;
  /** ± fraction applied to each interval (`PROBE_JITTER`). */
  jitter: number;
  random?: Random;
  /** A check function that threw (it should report failures as results instead). */
  onError?: (error: unknown, serviceId: string) => void;
}

interface Tracked {
  target: ProbeTarget;
  /** Changes whenever the target gets a new schedule; a check that ran under an older one does not reschedule. */
  generation: number;
}

/**
 * When each target is checked. Deadlines live in one timer queue; a due target waits
 * for a slot in the concurrency gate (never dropped), and its next deadline is set when
 * its check ends, so one target is never checked twice at once however slow it is.
 * A new target's first check lands anywhere within its interval, and every later one an
 * interval ± jitter after the previous one started.
 */
export class ProbeScheduler {
  private readonly timers = new TimerQueue((due) => {
    for (const { key } of due) this.due(key);
  });
  private readonly tracked = new Map<string, Tracked>();
  /** Waiting for or holding a slot. */
  private readonly busy = new Set<string>();
  /** Came due again while busy: checked as soon as the current check ends. */
  private readonly overdue = new Set<string>();
  private readonly gate: ConcurrencyGate;
  private readonly random: Random;
  private generation = 0;
  private stopped = false;

  constructor(
    private readonly runCheck: (serviceId: string, target: ProbeTarget) => Promise<void>,
    private readonly options: ProbeSchedulerOptions,
  ) {
    this.gate = new ConcurrencyGate(options.concurrency);
    this.random = options.random ?? Math.random;
  }

  get size(): number {
    return this.tracked.size;
  }

  get inFlight(): number {
    return this.gate.active;
  }

  get waiting(): number {
    return this.gate.waiting;
  }

  ids(): string[] {
    return [...this.tracked.keys()];
  }

  /** Starts checking `serviceId`, or takes its new settings (a new URL or interval starts a new schedule). */
  set(serviceId: string, target: ProbeTarget): void {
    if (this.stopped) return;
    const current = this.tracked.get(serviceId);
    if (current && sameSchedule(current.target, target)) {
      current.target = target;
      return;
    }
    this.generation += 1;
    this.tracked.set(serviceId, { target, generation: this.generation });
    this.overdue.delete(serviceId);
    this.timers.schedule(serviceId, Date.now() + firstCheckDelay(target.intervalMs, this.random));
  }

  /** Stops checking `serviceId`; a check already running finishes (its result still stands). */
  delete(serviceId: string): void {
    this.tracked.delete(serviceId);
    this.timers.cancel(serviceId);
    this.overdue.delete(serviceId);
  }

  /** Runs `task` in the same concurrency budget as scheduled checks, ahead of those waiting. */
  runNow<T>(task: () => Promise<T>): Promise<T> {
    return this.gate.run(task, { urgent: true });
  }

  /** Schedules nothing more and resolves when the checks in flight have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.stop();
    this.tracked.clear();
    this.overdue.clear();
    await this.gate.idle();
  }

  private due(serviceId: string): void {
    if (this.stopped || !this.tracked.has(serviceId)) return;
    if (this.busy.has(serviceId)) {
      this.overdue.add(serviceId);
      return;
    }
    this.busy.add(serviceId);
    void this.gate.run(() => this.checkOne(serviceId));
  }

  private async checkOne(serviceId: string): Promise<void> {
    const tracked = this.tracked.get(serviceId);
    if (this.stopped || !tracked) {
      this.busy.delete(serviceId);
      return;
    }
    const started = Date.now();
    try {
      await this.runCheck(serviceId, tracked.target);
    } catch (error) {
      this.options.onError?.(error, serviceId);
    } finally {
      this.busy.delete(serviceId);
    }
    this.scheduleNext(serviceId, tracked.generation, started);
  }

  private scheduleNext(serviceId: string, generation: number, started: number): void {
    const current = this.tracked.get(serviceId);
    if (this.stopped || !current) return;
    if (this.overdue.delete(serviceId)) {
      this.due(serviceId);
      return;
    }
    // Rescheduled while this check ran: the new schedule already stands.
    if (current.generation !== generation) return;
    const next = started + jitteredInterval(current.target.intervalMs, this.options.jitter, this.random);
    this.timers.schedule(serviceId, Math.max(Date.now(), next));
  }
}
