import { Subjects, type Service } from '@beacon/contracts';
import {
  CatalogView,
  Membership,
  MetricsService,
  NatsService,
  ROOT_LOGGER,
  TimerQueue,
  type CatalogChange,
  type Logger,
} from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { REAPER_ENV, type ReaperEnv } from './config';

/** How soon to ask again when the registry said "not yet" (its clock may lag ours by a little). */
const RETRY_MS = 250;
const REQUEST_TIMEOUT_MS = 5000;
/** Keys whose owner runs the periodic jobs: one replica at a time, moving with membership. */
const SWEEP_KEY = 'ttl-reaper/sweep';
const PURGE_KEY = 'ttl-reaper/purge';
/** A sweep expires at most a batch (registry-api's SWEEP_BATCH); catching up asks until one finds nothing, this many times at most. */
const CATCH_UP_ROUNDS = 100;

/**
 * Expires services on time. Every service this replica owns (rendezvous hashing over the
 * live replicas) has a deadline in one timer queue; when it passes, the reaper asks
 * registry-api to expire it, conditionally, so a heartbeat that got there first wins.
 * A periodic sweep catches anything missed, and expired services are purged after the
 * retention period.
 *
 * A snapshot shows the effective status, so a service whose deadline passed while nobody
 * was reaping (this replica or registry-api down) reads `expired` in the copy although
 * its stored status is still live and no `expired` event went out. Only registry-api can
 * tell the two apart, so whenever ownership is placed from the copy this replica asks it
 * to sweep at once (issue 14 item 3) instead of waiting for the periodic one; its
 * expire is conditional, so racing sweeps or timers still yield one event per service.
 */
@Injectable()
export class ReaperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly queue = new TimerQueue((due) => this.expireDue(due));
  /**
   * The latest deadline known per owned service: from the catalog copy, or from the
   * registry when it declined because the deadline had moved (renewals by passing checks
   * are announced sparingly). The expire request names this one.
   */
  private readonly deadlines = new Map<string, number>();
  private readonly lag: Histogram;
  private readonly expirations: Counter<'result'>;
  private readonly owned: Gauge;
  private readonly housekeepingRuns: Counter<'task' | 'result'>;
  private housekeepingTimer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private catchingUp: Promise<void> | null = null;
  private catchUpAgain = false;
  private readonly waiting: (() => void)[] = [];

  constructor(
    @Inject(CatalogView) private readonly view: CatalogView,
    @Inject(Membership) private readonly membership: Membership,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(REAPER_ENV) private readonly config: ReaperEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.lag = metrics.histogram(
      'beacon_expiry_lag_seconds',
      'Time from a service’s expires_at to the registry confirming its expiry',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 30, 60],
    );
    this.expirations = metrics.counter('beacon_reaper_expirations_total', 'Expire requests by result', ['result']);
    this.owned = metrics.gauge('beacon_reaper_owned_services', 'Services whose expiry this replica watches');
    this.housekeepingRuns = metrics.counter('beacon_reaper_housekeeping_total', 'Sweeps and purges (task), by result', ['task', 'result']);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.membership.ready;
    this.view.onChange((change) => this.track(change));
    this.membership.onChange(() => this.rebuild());
    this.rebuild();
    this.housekeepingTimer = setInterval(() => void this.housekeeping(), this.config.BEACON_TTL_CLEANUP_INTERVAL * 1000);
    this.housekeepingTimer.unref();
  }

  onApplicationShutdown(): void {
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    this.queue.stop();
  }

  private track(change: CatalogChange): void {
    if (change.kind === 'remove') this.forget(change.service.service_id);
    else this.consider(change.service);
    this.owned.set(this.deadlines.size);
  }

  /** Watches a service's deadline if this replica owns it and it has not expired yet. */
  private consider(service: Service): void {
    if (service.status === 'expired' || !this.membership.owns(service.service_id)) {
      this.forget(service.service_id);
      return;
    }
    this.watch(service.service_id, Date.parse(service.expires_at));
  }

  private watch(serviceId: string, deadline: number): void {
    this.deadlines.set(serviceId, deadline);
    this.queue.schedule(serviceId, deadline);
  }

  private forget(serviceId: string): void {
    this.deadlines.delete(serviceId);
    this.queue.cancel(serviceId);
  }

  /** At start or when membership changed: keys moved, so every deadline is placed again. */
  private rebuild(): void {
    this.queue.clear();
    this.deadlines.clear();
    for (const service of this.view.values()) this.consider(service);
    this.owned.set(this.deadlines.size);
    this.catchUp();
  }

  /**
   * Sweeps until nothing more is due. Every replica does, whoever owns the sweep key: the
   * copy hides which lapsed services were never expired, and an extra sweep costs one
   * indexed query. One at a time; a request while one runs queues one more round.
   */
  private catchUp(): void {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = this.sweepUntilDone().finally(() => {
      this.catchingUp = null;
      if (this.catchUpAgain) {
        this.catchUpAgain = false;
        this.catchUp();
      }
    });
  }

  private async sweepUntilDone(): Promise<void> {
    for (let round = 0; round < CATCH_UP_ROUNDS; round += 1) {
      const expired = await this.run('catch-up', () =>
        this.nats.request(Subjects.registrySweep, { now: new Date().toISOString() }, REQUEST_TIMEOUT_MS),
      );
      if (!expired?.expired) return;
    }
  }

  private expireDue(due: { key: string; due: number }[]): void {
    for (const { key } of due) void this.expireOne(key);
  }

  private async expireOne(serviceId: string): Promise<void> {
    const expiresAt = this.deadlines.get(serviceId);
    // Removed since, or no longer ours: the change that said so placed it anew. The copy's
    // status is not asked: after a resync it may read `expired` only because the deadline
    // passed (effective status), while an `expired` event would have dropped the deadline.
    if (!this.view.get(serviceId) || expiresAt === undefined || !this.membership.owns(serviceId)) return;
    await this.slot();
    try {
      const reply = await this.nats.request(
        Subjects.registryExpire,
        { service_id: serviceId, expires_at: new Date(expiresAt).toISOString() },
        REQUEST_TIMEOUT_MS,
      );
      if (reply.expired) {
        this.lag.observe(Math.max(0, Date.now() - expiresAt) / 1000);
        this.expirations.inc({ result: 'expired' });
        this.forget(serviceId);
        return;
      }
      this.expirations.inc({ result: 'declined' });
      // Gone or already expired (by a sweep, or another replica): nothing left to watch.
      if (!reply.expires_at) {
        if (this.deadlines.get(serviceId) === expiresAt) this.forget(serviceId);
        return;
      }
      // Renewed after our copy last heard of it: wait for the deadline the registry reports.
      const moved = Date.parse(reply.expires_at);
      if (moved !== expiresAt && this.deadlines.get(serviceId) === expiresAt) {
        this.watch(serviceId, moved);
        return;
      }
    } catch (error) {
      this.expirations.inc({ result: 'failed' });
      this.logger.warn({ err: error, service_id: serviceId }, 'expire request failed; retrying');
    } finally {
      this.release();
    }
    // Still the same deadline (the registry's clock may lag ours a little, or the request
    // failed): ask again shortly. The sweep is the backstop.
    if (this.deadlines.get(serviceId) === expiresAt && this.membership.owns(serviceId)) {
      this.queue.schedule(serviceId, Date.now() + RETRY_MS);
    }
  }

  /** The sweep and the purge, run by whichever replica owns their keys now. */
  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (this.membership.owns(SWEEP_KEY)) {
      await this.run('sweep', () => this.nats.request(Subjects.registrySweep, { now: new Date(now).toISOString() }, REQUEST_TIMEOUT_MS));
    }
    if (this.membership.owns(PURGE_KEY)) {
      const olderThan = new Date(now - this.config.BEACON_EXPIRED_RETENTION * 1000).toISOString();
      await this.run('purge', () => this.nats.request(Subjects.registryPurge, { older_than: olderThan }, REQUEST_TIMEOUT_MS));
    }
  }

  /** Runs one housekeeping request, counted and logged; its reply, or undefined when it failed. */
  private async run<T>(job: 'sweep' | 'purge' | 'catch-up', request: () => Promise<T>): Promise<T | undefined> {
    try {
      const reply = await request();
      this.housekeepingRuns.inc({ task: job, result: 'ok' });
      this.logger.debug({ job, reply }, 'housekeeping');
      return reply;
    } catch (error) {
      this.housekeepingRuns.inc({ task: job, result: 'failed' });
      this.logger.warn({ err: error, job }, 'housekeeping request failed');
      return undefined;
    }
  }

  /** At most REAPER_CONCURRENCY expire requests at once (1,000 services may lapse together). */
  private async slot(): Promise<void> {
    if (this.inFlight < this.config.REAPER_CONCURRENCY) {
      this.inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight += 1;
  }

  private release(): void {
    this.inFlight -= 1;
    this.waiting.shift()?.();
  }
}
