import type { ProbeOutcome } from '@beacon/contracts';
import { TimerQueue } from '@beacon/platform';
import { sameSchedule, type ProbeTarget } from '../probe-target';
import { backoffDelay } from './backoff';
import { FairGate } from './fair-gate';
import { firstCheckDelay, jitteredInterval, type Random } from './jitter';
import { laneAfter, type Lane } from './lanes';

export interface ProbeSchedulerOptions {
  /** Checks in flight at most (`PROBE_CONCURRENCY`). */
  concurrency: number;
  /** New and slow checks in flight at most against one host (`PROBE_PER_HOST_CONCURRENCY`). */
  perHost: number;
  /** ± fraction applied to each interval (`PROBE_JITTER`). */
  jitter: number;
  random?: Random;
  /** A check function that threw (it should report failures as results instead). */
  onError?: (error: unknown, serviceId: string) => void;
}

/** Runs one check and tells how it ended (null: it could not tell). */
export type RunCheck = (serviceId: string, target: ProbeTarget) => Promise<ProbeOutcome | null>;

interface Tracked {
  target: ProbeTarget;
  /** Changes whenever the target gets a new schedule; a check that ran under an older one does not reschedule. */
  generation: number;
  /** What its last check showed (see lanes.ts). */
  lane: Lane;
  /** Scheduled checks in a row that timed out. */
  timeouts: number;
  /** How long its last check held a slot (0 before the first). */
  lastElapsedMs: number;
}

/**
 * When each target is checked. Deadlines live in one timer queue; a due target waits for
 * a slot in the fair gate (never dropped), earliest deadline first (its last check's
 * duration added), within the per-host and lane caps, and its next deadline is set when its check ends, so one target is never
 * checked twice at once however slow it is. A new target's first check lands anywhere
 * within its interval, and every later one an interval ± jitter after the previous one
 * started; a target that keeps timing out is backed off (see backoff.ts).
 */
export class ProbeScheduler {
  private readonly timers = new TimerQueue((due) => {
    for (const { key, due: dueAt } of due) this.due(key, dueAt);
  });
  private readonly tracked = new Map<string, Tracked>();
  /** Waiting for or holding a slot. */
  private readonly busy = new Set<string>();
  /** Came due again while busy, and when: checked as soon as the current check ends. */
  private readonly overdue = new Map<string, number>();
  private readonly gate: FairGate;
  private readonly random: Random;
  private generation = 0;
  private stopped = false;

  constructor(
    private readonly runCheck: RunCheck,
    private readonly options: ProbeSchedulerOptions,
  ) {
    this.gate = new FairGate({ concurrency: options.concurrency, perHost: options.perHost });
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

  inFlightIn(lane: Lane): number {
    return this.gate.activeIn(lane);
  }

  /** Targets checked less often than their interval because they keep timing out. */
  get backedOff(): number {
    let count = 0;
    for (const { target, timeouts } of this.tracked.values()) if (timeouts >= target.retries) count += 1;
    return count;
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
    this.tracked.set(serviceId, { target, generation: this.generation, lane: 'new', timeouts: 0, lastElapsedMs: 0 });
    this.overdue.delete(serviceId);
    this.timers.schedule(serviceId, Date.now() + firstCheckDelay(target.intervalMs, this.random));
  }

  /** Stops checking `serviceId`; a check already running finishes (its result still stands). */
  delete(serviceId: string): void {
    this.tracked.delete(serviceId);
    this.timers.cancel(serviceId);
    this.overdue.delete(serviceId);
  }

  /**
   * Runs `task` (a check of `target` someone waits for) in the same slots as scheduled
   * checks, ahead of those waiting in its lane, and under the same caps: asking for
   * checks of a black hole cannot take the slots of targets that answer.
   */
  runNow<T>(serviceId: string, target: ProbeTarget, task: () => Promise<T>): Promise<T> {
    const lane = this.tracked.get(serviceId)?.lane ?? 'new';
    return this.gate.run({ lane, host: target.host, due: -Infinity }, task);
  }

  /** Schedules nothing more and resolves when the checks in flight have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.stop();
    this.tracked.clear();
    this.overdue.clear();
    await this.gate.idle();
  }

  private due(serviceId: string, dueAt: number): void {
    const tracked = this.tracked.get(serviceId);
    if (this.stopped || !tracked) return;
    if (this.busy.has(serviceId)) {
      if (!this.overdue.has(serviceId)) this.overdue.set(serviceId, dueAt);
      return;
    }
    this.busy.add(serviceId);
    // In line by when it fell due plus how long its last check held a slot: where slots are
    // short, a target that held one 30 s waits behind targets due up to 30 s after it.
    const ticket = { lane: tracked.lane, host: tracked.target.host, due: dueAt + tracked.lastElapsedMs };
    void this.gate.run(ticket, () => this.checkOne(serviceId));
  }

  private async checkOne(serviceId: string): Promise<void> {
    const tracked = this.tracked.get(serviceId);
    if (this.stopped || !tracked) {
      this.busy.delete(serviceId);
      return;
    }
    const started = Date.now();
    let outcome: ProbeOutcome | null = null;
    try {
      outcome = await this.runCheck(serviceId, tracked.target);
    } catch (error) {
      this.options.onError?.(error, serviceId);
    } finally {
      this.busy.delete(serviceId);
    }
    tracked.lastElapsedMs = Date.now() - started;
    tracked.lane = laneAfter(outcome, tracked.lastElapsedMs);
    tracked.timeouts = outcome === 'timeout' ? tracked.timeouts + 1 : 0;
    this.scheduleNext(serviceId, tracked.generation, started);
  }

  private scheduleNext(serviceId: string, generation: number, started: number): void {
    const current = this.tracked.get(serviceId);
    if (this.stopped || !current) return;
    const sameGeneration = current.generation === generation;
    const { intervalMs, retries } = current.target;
    const backoff = sameGeneration ? backoffDelay(intervalMs, current.timeouts, retries) : null;
    if (backoff !== null) {
      // Counted from the end of the check: the time a black hole holds its slot comes out of its own schedule.
      this.overdue.delete(serviceId);
      this.timers.schedule(serviceId, Date.now() + jitteredInterval(backoff, this.options.jitter, this.random));
      return;
    }
    const overdueAt = this.overdue.get(serviceId);
    if (overdueAt !== undefined) {
      this.overdue.delete(serviceId);
      this.due(serviceId, overdueAt);
      return;
    }
    // Rescheduled while this check ran: the new schedule already stands.
    if (!sameGeneration) return;
    const next = started + jitteredInterval(intervalMs, this.options.jitter, this.random);
    this.timers.schedule(serviceId, Math.max(Date.now(), next));
  }
}
