import { QueueGroups, Subjects, type ProbeResult } from '@beacon/contracts';
import { MetricsService, NatsService, ROOT_LOGGER, type Counter, type Logger } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CatalogService } from './catalog.service';

/**
 * Applies health-prober's results to the catalog. A queue group: with several
 * registry-api replicas each result is applied once. `NatsService.subscribe` checks each
 * result against its contract; a malformed one never reaches `consume`, and is counted
 * here as `invalid` too.
 */
@Injectable()
export class ProbeResultsConsumer implements OnApplicationBootstrap {
  private readonly applied: Counter<'result'>;

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(CatalogService) private readonly catalog: CatalogService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.applied = metrics.counter('beacon_probe_results_total', 'Probe results received, by what became of them', ['result']);
  }

  onApplicationBootstrap(): void {
    this.nats.subscribe(Subjects.probeResult, (event) => void this.consume(event.result), {
      queue: QueueGroups.registryApi,
      onDropped: () => this.applied.inc({ result: 'invalid' }),
    });
  }

  private async consume(result: ProbeResult): Promise<void> {
    try {
      await this.catalog.applyProbeResult(result);
      this.applied.inc({ result: 'applied' });
    } catch (error) {
      this.applied.inc({ result: 'failed' });
      this.logger.error({ err: error, service_id: result.service_id }, 'could not apply a probe result');
    }
  }
}
