import { SERVICE_STATUSES } from '@beacon/contracts';
import { MetricsService } from '@beacon/platform';
import { Inject, Injectable } from '@nestjs/common';
import { CatalogService } from './catalog.service';

/**
 * Series of `beacon_service_unhealthy` one scrape may carry: a catalog where thousands of
 * services fail at once is an outage, and `beacon_services{status="unhealthy"}` says so
 * without a series for each.
 */
export const UNHEALTHY_SERIES_LIMIT = 1000;

/**
 * The catalog as Prometheus sees it, read from the store at scrape time (so every
 * registry-api replica reports the same numbers, and alerts take `max`):
 * - `beacon_services{status}`: services by effective status;
 * - `beacon_service_unhealthy{service_id,name,type}`: 1 for each service whose health
 *   checks currently fail (the first `UNHEALTHY_SERIES_LIMIT` by registration), no series otherwise.
 * - `beacon_tombstones`: tombstones stored (expired ones included until purged).
 * A store that cannot be read leaves both empty for that scrape; `/api/v1/health` says why.
 */
@Injectable()
export class CatalogMetrics {
  constructor(@Inject(CatalogService) catalog: CatalogService, @Inject(MetricsService) metrics: MetricsService) {
    metrics.gauge('beacon_services', 'Services in the catalog, by effective status', ['status'], async function () {
      this.reset();
      const counts = await catalog.countByStatus().catch(() => null);
      if (counts) for (const status of SERVICE_STATUSES) this.set({ status }, counts[status]);
    });
    metrics.gauge(
      'beacon_tombstones',
      'Tombstones stored: services deleted by an operator whose heartbeats get 410',
      [],
      async function () {
        this.reset();
        const count = await catalog.tombstoneCount().catch(() => null);
        if (count !== null) this.set(count);
      },
    );
    metrics.gauge(
      'beacon_service_unhealthy',
      '1 for each service whose health checks currently fail (status unhealthy)',
      ['service_id', 'name', 'type'],
      async function () {
        this.reset();
        const listing = await catalog.list({ status: 'unhealthy' }, { limit: UNHEALTHY_SERIES_LIMIT, skip: 0 }).catch(() => null);
        for (const service of listing?.services ?? []) {
          this.set({ service_id: service.service_id, name: service.name, type: service.type ?? '' }, 1);
        }
      },
    );
  }
}
