import { SERVICE_EVENTS_WILDCARD, type RegistryStatsResponse } from '@beacon/contracts';
import { NatsService } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { STATS_WINDOW_SECONDS } from '../store/service-store';
import { RecentCount } from './recent-count';

/** A dashboard polling every few seconds, times many viewers, reads the store at most this often per replica. */
const REUSE_MS = 1000;

/**
 * `GET /api/v1/stats` (seed 003's registry statistics). Counts, checks and the revision
 * come from the store, so every replica answers alike. Events are counted as they arrive
 * on NATS: every replica hears every replica's catalog events, but only since it started.
 */
@Injectable()
export class StatsService implements OnApplicationBootstrap {
  private readonly events = new RecentCount(STATS_WINDOW_SECONDS);
  private latest: { at: number; stats: Promise<RegistryStatsResponse> } | null = null;

  constructor(
    @Inject(CatalogService) private readonly catalog: CatalogService,
    @Inject(NatsService) private readonly nats: NatsService,
  ) {}

  onApplicationBootstrap(): void {
    // Counted, not read: only registry-api's identity may publish there (NATS permissions).
    this.nats.tally(SERVICE_EVENTS_WILDCARD, () => this.events.add(Date.now()));
  }

  /** Shared by requests within `REUSE_MS` of each other (and while one is being read). */
  stats(): Promise<RegistryStatsResponse> {
    const now = Date.now();
    if (this.latest && now - this.latest.at < REUSE_MS) return this.latest.stats;
    const stats = this.read(now);
    const latest = { at: now, stats };
    this.latest = latest;
    stats.catch(() => {
      if (this.latest === latest) this.latest = null;
    });
    return stats;
  }

  private async read(now: number): Promise<RegistryStatsResponse> {
    const { revision, total, by_status, by_health, by_type, checks } = await this.catalog.stats(now);
    return {
      revision,
      services: { total, by_status, by_health, by_type },
      checks_last_minute: checks,
      events_last_minute: this.events.count(now),
      generated_at: new Date(now).toISOString(),
    };
  }
}
