import {
  UPTIME_PERIODS,
  type PingsResponse,
  type StatusPage,
  type UptimeBar,
  type UptimeOverview,
  type UptimePeriod,
  type UptimeResponse,
} from '@beacon/contracts';
import { MetricsService, ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import type { ServiceRecord } from '../catalog/service-record';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { IncidentsService } from '../incidents/incidents.service';
import { SERVICE_STORE, type ServiceStore } from '../store/service-store';
import { InvalidUptimeQuery, StatusPageOff } from './uptime.errors';
import {
  NO_TOTALS,
  availabilityOf,
  heartbeatAvailability,
  summarize,
  toWireWindow,
  totalsOf,
  uptimePercent,
  windowStart,
  type WindowTotals,
} from './uptime-math';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const PERIOD_MS: Record<UptimePeriod, number> = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY };
/** Windows one aggregation pass closes at most (a day of 5-minute windows); the next pass continues. */
const WINDOWS_PER_PASS = 288;
/** Rows one retention pass removes at most per table. */
const TRIM_BATCH = 20_000;
const MAINTAIN_MS = 60_000;
/** Days on the status page. */
export const STATUS_DAYS = 90;
/** Services the status page and overview read from the catalog at most. */
const CATALOG_READ_LIMIT = 100_000;

const hasCheck = (record: Pick<ServiceRecord, 'health_check_url' | 'health_check_tcp'>): boolean =>
  record.health_check_url !== null || record.health_check_tcp !== null;

/**
 * Uptime history: closes windows from the stored check results (the pings), durably and
 * once (the windows and the mark up to which they are aggregated are written together, so
 * a crash re-aggregates from the pings and never counts twice); gives heartbeat-only
 * services availability from their `expired` incidents; trims pings and windows past
 * retention; answers the uptime, pings, overview and status-page reads.
 *
 * Reads of many services are cached until the next window closes (windows change only
 * then), and the status page's past days are summed once per day.
 */
@Injectable()
export class UptimeService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly windowMs: number;
  private readonly graceMs: number;
  private timer: NodeJS.Timeout | null = null;
  private maintainTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Bumped whenever windows are written: caches of an older generation are stale. */
  private generation = 0;
  private overviewCache: { key: string; bars: Map<string, Omit<UptimeBar, 'service_id'>>; from: number } | null = null;
  /** Per-service totals of each whole past UTC day (day start → totals), for the status page. */
  private readonly dayTotals = new Map<number, Map<string, WindowTotals>>();
  private todayCache: { key: string; totals: Map<string, WindowTotals> } | null = null;
  private readonly aggregated: ReturnType<MetricsService['counter']>;

  constructor(
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
    @Inject(CatalogService) private readonly catalog: CatalogService,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
    @Inject(MetricsService) metrics: MetricsService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.windowMs = config.BEACON_UPTIME_WINDOW_SECONDS * 1000;
    // A check result reaches the store a moment after its check: a window is closed this long after its end.
    this.graceMs = Math.min(30_000, this.windowMs);
    this.aggregated = metrics.counter(
      'beacon_uptime_windows_closed_total',
      'Uptime windows aggregated and stored (one per window, all services)',
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.run(() => this.aggregate(Date.now()));
    const every = Math.max(500, Math.min(15_000, this.windowMs / 2));
    this.timer = setInterval(() => void this.run(() => this.aggregate(Date.now())), every);
    this.timer.unref();
    this.maintainTimer = setInterval(() => void this.run(() => this.trim(Date.now())), MAINTAIN_MS);
    this.maintainTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    await this.running;
  }

  private async run(job: () => Promise<unknown>): Promise<void> {
    if (this.running) return;
    this.running = job()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'uptime aggregation failed; trying again next period'))
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  /**
   * Closes every window that ended at least the grace period ago and is not aggregated
   * yet, oldest first, one transaction each (windows and mark together). Returns how many.
   */
  async aggregate(now: number): Promise<number> {
    const retentionStart = windowStart(now - this.config.BEACON_UPTIME_RETENTION * 1000, this.windowMs);
    let mark = await this.store.uptime.aggregatedUntil();
    // A store without windows yet (new, or upgraded from a version without them) starts with the
    // pings of the last day at most, and no more than one pass back.
    if (mark === 0) mark = Math.max(now - DAY, windowStart(now, this.windowMs) - WINDOWS_PER_PASS * this.windowMs);
    mark = Math.max(windowStart(mark, this.windowMs), retentionStart);
    const closed = windowStart(now - this.graceMs, this.windowMs);
    if (mark >= closed) return 0;
    const heartbeatOnly = await this.heartbeatOnlyServices();
    let done = 0;
    while (mark < closed && done < WINDOWS_PER_PASS) {
      const end = mark + this.windowMs;
      const windows = summarize(await this.store.uptime.checksBetween(mark, end), mark);
      if (heartbeatOnly.length > 0) {
        const spans = await this.store.uptime.expiredSpans(mark, end);
        for (const record of heartbeatOnly) {
          const availability = heartbeatAvailability(spans.get(record.service_id) ?? [], record.created_at, mark, end);
          if (availability !== null)
            windows.push({ service_id: record.service_id, start: mark, checks: 0, failures: 0, availability, latency: null });
        }
      }
      await this.store.uptime.saveWindows(windows, end);
      mark = end;
      done += 1;
    }
    this.generation += 1;
    this.aggregated.inc(done);
    return done;
  }

  private async heartbeatOnlyServices(): Promise<ServiceRecord[]> {
    const records: ServiceRecord[] = [];
    let after: string | null = null;
    do {
      const page = await this.store.snapshotPage(after, 1000);
      for (const record of page.records) if (!hasCheck(record)) records.push(record);
      after = page.next;
    } while (after !== null);
    return records;
  }

  private async trim(now: number): Promise<void> {
    const removed = await this.store.uptime.trim(
      now - this.config.BEACON_UPTIME_RETENTION * 1000,
      now - this.config.BEACON_PINGS_RETENTION * 1000,
      TRIM_BATCH,
    );
    if (removed > 0) this.logger.debug({ removed }, 'pings and uptime windows past retention removed');
  }

  /** `GET /services/{id}/uptime`: uptime over 1 h, 24 h, 7 d and 30 d, and the windows of `[from, to)` (default the last 24 h). */
  async uptime(serviceId: string, fromText: string | undefined, toText: string | undefined): Promise<UptimeResponse> {
    const service = await this.catalog.get(serviceId);
    const now = Date.now();
    const to = toText === undefined ? now : Date.parse(toText);
    const from = fromText === undefined ? to - DAY : Date.parse(fromText);
    if (from >= to) throw new InvalidUptimeQuery('from must be before to');
    const retention = this.config.BEACON_UPTIME_RETENTION * 1000;
    if (to - from > retention) {
      throw new InvalidUptimeQuery(`from: the range may span at most BEACON_UPTIME_RETENTION (${retention / DAY} days)`);
    }
    const recent = await this.store.uptime.windows(serviceId, now - PERIOD_MS['30d'], now + 1);
    const uptime = {} as Record<UptimePeriod, number | null>;
    for (const period of UPTIME_PERIODS) {
      uptime[period] = uptimePercent(totalsOf(recent.filter((window) => window.start >= now - PERIOD_MS[period])));
    }
    const inRange =
      from >= now - PERIOD_MS['30d']
        ? recent.filter((window) => window.start >= from && window.start < to)
        : await this.store.uptime.windows(serviceId, from, to);
    return {
      service_id: serviceId,
      source: service.health_check_url || service.health_check_tcp ? 'checks' : 'heartbeats',
      uptime,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      windows: inRange.map(toWireWindow),
    };
  }

  /** `GET /services/{id}/pings`: raw results, newest first. */
  async pings(serviceId: string, limit: number, sinceText: string | undefined): Promise<PingsResponse> {
    await this.catalog.get(serviceId);
    if (limit > this.config.BEACON_PINGS_PER_SERVICE) {
      throw new InvalidUptimeQuery(`limit must not be greater than ${this.config.BEACON_PINGS_PER_SERVICE} (BEACON_PINGS_PER_SERVICE)`);
    }
    const oldest = Date.now() - this.config.BEACON_PINGS_RETENTION * 1000;
    const since = sinceText === undefined ? oldest : Math.max(oldest, Date.parse(sinceText));
    const { checks, total } = await this.store.healthChecks(serviceId, limit, since);
    return { service_id: serviceId, pings: checks, total };
  }

  /** `GET /api/v1/uptime?windows=N`: every service's last N closed windows, in one answer. */
  async overview(count: number): Promise<UptimeOverview> {
    const end = await this.store.uptime.aggregatedUntil();
    const key = `${this.generation}:${count}:${end}`;
    if (this.overviewCache?.key !== key) this.overviewCache = { key, ...(await this.bars(count, end)) };
    const { bars, from } = this.overviewCache;
    const { services } = await this.catalog.list({}, { limit: CATALOG_READ_LIMIT, skip: 0 });
    const empty = (): (number | null)[] => Array.from({ length: count }, () => null);
    return {
      window_seconds: this.windowMs / 1000,
      from: new Date(from).toISOString(),
      services: services.map((service) => ({
        service_id: service.service_id,
        ...(bars.get(service.service_id) ?? { uptime_24h: null, availability: empty(), latency_p50: empty() }),
      })),
    };
  }

  private async bars(count: number, end: number): Promise<{ bars: Map<string, Omit<UptimeBar, 'service_id'>>; from: number }> {
    const from = end - count * this.windowMs;
    const windows = await this.store.uptime.windowsSince(from);
    const day = await this.store.uptime.totals(end - DAY, end);
    const bars = new Map<string, Omit<UptimeBar, 'service_id'>>();
    const barOf = (serviceId: string): Omit<UptimeBar, 'service_id'> => {
      let bar = bars.get(serviceId);
      if (!bar) {
        bar = {
          uptime_24h: uptimePercent(day.get(serviceId) ?? NO_TOTALS),
          availability: Array.from({ length: count }, () => null),
          latency_p50: Array.from({ length: count }, () => null),
        };
        bars.set(serviceId, bar);
      }
      return bar;
    };
    for (const window of windows) {
      const slot = Math.floor((window.start - from) / this.windowMs);
      if (slot < 0 || slot >= count) continue;
      const bar = barOf(window.service_id);
      bar.availability[slot] = window.availability;
      bar.latency_p50[slot] = window.latency?.p50 ?? null;
    }
    for (const serviceId of day.keys()) barOf(serviceId);
    return { bars, from };
  }

  /** `GET /api/v1/status-page`: the services shown, 90 daily availabilities each, and their open incidents. */
  async statusPage(): Promise<StatusPage> {
    const mode = this.config.BEACON_STATUS_PAGE;
    if (mode === 'off') throw new StatusPageOff();
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const firstDay = today - (STATUS_DAYS - 1) * DAY;
    const days = Array.from({ length: STATUS_DAYS }, (_, index) => firstDay + index * DAY);
    const perDay = await this.dailyTotals(days, now);
    const { services } = await this.catalog.list(mode === 'all' ? {} : { tags: ['public'] }, { limit: CATALOG_READ_LIMIT, skip: 0 });
    const shown = new Set(services.map((service) => service.service_id));
    const open = await this.incidents.list({ status: 'open' }, { limit: 500, skip: 0 });
    return {
      title: this.config.BEACON_STATUS_PAGE_TITLE,
      generated_at: new Date(now).toISOString(),
      days: days.map((day) => new Date(day).toISOString().slice(0, 10)),
      services: services.map((service) => {
        const totals = perDay.map((day) => day.get(service.service_id) ?? NO_TOTALS);
        const sum = totals.reduce<WindowTotals>(
          (all, each) => ({
            checks: all.checks + each.checks,
            failures: all.failures + each.failures,
            availabilitySum: all.availabilitySum + each.availabilitySum,
            known: all.known + each.known,
          }),
          NO_TOTALS,
        );
        return {
          service_id: service.service_id,
          name: service.name,
          type: service.type,
          status: service.status,
          health: service.health,
          uptime: uptimePercent(sum),
          days: totals.map((each) => availabilityOf(each)),
        };
      }),
      incidents: open.incidents.filter((incident) => shown.has(incident.service_id)),
    };
  }

  /** Totals per day: past days summed once and kept; today's until the next window closes. */
  private async dailyTotals(days: number[], now: number): Promise<Map<string, WindowTotals>[]> {
    const today = days.at(-1) as number;
    for (const day of this.dayTotals.keys()) if (day < (days[0] as number)) this.dayTotals.delete(day);
    const result: Map<string, WindowTotals>[] = [];
    for (const day of days) {
      if (day === today) {
        const key = `${this.generation}:${day}`;
        if (this.todayCache?.key !== key) this.todayCache = { key, totals: await this.store.uptime.totals(day, now + 1) };
        result.push(this.todayCache.totals);
        continue;
      }
      let totals = this.dayTotals.get(day);
      if (!totals) {
        totals = await this.store.uptime.totals(day, day + DAY);
        // A day is final once every window of it is aggregated.
        if ((await this.store.uptime.aggregatedUntil()) >= day + DAY) this.dayTotals.set(day, totals);
      }
      result.push(totals);
    }
    return result;
  }
}
