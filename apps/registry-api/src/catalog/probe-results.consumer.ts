import { ProbeResultDto, QueueGroups, Subjects, validateInput } from '@beacon/contracts';
import { MetricsService, NatsService, ROOT_LOGGER, type Counter, type Logger } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CatalogService } from './catalog.service';

/**
 * Applies health-prober's results to the catalog. A queue group: with several
 * registry-api replicas each result is applied once. Results are validated like any
 * other input; a malformed one is counted and dropped.
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
    this.nats.subscribe(Subjects.probeResult, (document) => void this.consume(document), { queue: QueueGroups.registryApi });
  }

  private async consume(document: unknown): Promise<void> {
    const result = typeof document === 'object' && document !== null ? (document as { result?: unknown }).result : undefined;
    const validated = validateInput(ProbeResultDto, result);
    if (!validated.ok) {
      this.applied.inc({ result: 'invalid' });
      this.logger.warn({ errors: validated.errors }, 'dropped an invalid probe result');
      return;
    }
    try {
      await this.catalog.applyProbeResult(validated.value);
      this.applied.inc({ result: 'applied' });
    } catch (error) {
      this.applied.inc({ result: 'failed' });
      this.logger.error({ err: error, service_id: validated.value.service_id }, 'could not apply a probe result');
    }
  }
}
