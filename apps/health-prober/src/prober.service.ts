import { WIRE_VERSION, type ProbeOutcome, type ProbeResult, type Service } from '@beacon/contracts';
import { CatalogView, Membership, ROOT_LOGGER, RequestError, type CatalogChange, type Logger } from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PROBER_ENV, type ProberEnv } from './config';
import { ProbeRunner } from './probe-runner';
import { probeTargetOf, type ProbeTarget } from './probe-target';
import { ProberMetrics } from './prober.metrics';
import { ProbeScheduler } from './scheduling/probe-scheduler';

/**
 * Checks this replica's share of the catalog: every service with an HTTP or TCP check
 * that has not expired and that this replica owns (rendezvous hashing over the live
 * replicas). It follows the catalog view and the membership, and publishes each
 * check's result as it is; debouncing, TTL extension and history are registry-api's.
 */
@Injectable()
export class ProberService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly scheduler: ProbeScheduler;

  constructor(
    @Inject(CatalogView) private readonly view: CatalogView,
    @Inject(Membership) private readonly membership: Membership,
    @Inject(ProbeRunner) private readonly runner: ProbeRunner,
    @Inject(ProberMetrics) private readonly metrics: ProberMetrics,
    @Inject(PROBER_ENV) config: ProberEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.scheduler = new ProbeScheduler((serviceId, target) => this.probe(serviceId, target), {
      concurrency: config.PROBE_CONCURRENCY,
      perHost: config.PROBE_PER_HOST_CONCURRENCY,
      jitter: config.PROBE_JITTER,
      onError: (error, serviceId) => this.logger.error({ err: error, service_id: serviceId }, 'health check failed to run'),
    });
    metrics.watch(this.scheduler);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.membership.ready;
    this.view.onChange((change) => this.track(change));
    this.membership.onChange(() => this.rebuild());
    this.rebuild();
  }

  /**
   * Before NATS closes: leave the membership first, so the other replicas take over these
   * targets now instead of after the checks in flight (bounded by their timeouts) end.
   * (Its lifecycle stops it too; stopping is idempotent.)
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.membership.stop();
    const inFlight = this.scheduler.inFlight;
    await this.scheduler.stop();
    this.logger.info({ finished: inFlight }, 'health checks stopped');
  }

  /** Checks one service now, on any replica (`beacon.prober.check`); publishes the result unless told not to. */
  async checkNow(serviceId: string, publish: boolean): Promise<ProbeResult & { v: typeof WIRE_VERSION }> {
    const service = this.view.get(serviceId);
    if (!service) throw new RequestError('not_found', `service ${serviceId} is not in the catalog`);
    const target = probeTargetOf(service);
    if (!target) throw new RequestError('bad_request', `service ${serviceId} has no health_check_url or health_check_tcp`);
    const result = await this.scheduler.runNow(serviceId, target, () => this.runner.check(serviceId, target));
    if (publish) this.runner.publish(result);
    return { ...result, v: WIRE_VERSION };
  }

  private async probe(serviceId: string, target: ProbeTarget): Promise<ProbeOutcome> {
    const result = await this.runner.check(serviceId, target);
    this.runner.publish(result);
    return result.outcome;
  }

  private track(change: CatalogChange): void {
    if (change.kind === 'remove') this.scheduler.delete(change.service.service_id);
    else this.consider(change.service);
    this.metrics.ownedTargets.set(this.scheduler.size);
  }

  private consider(service: Service): void {
    const target = service.status === 'expired' || !this.membership.owns(service.service_id) ? null : probeTargetOf(service);
    if (target) this.scheduler.set(service.service_id, target);
    else this.scheduler.delete(service.service_id);
  }

  /** Membership changed, so ownership did: keep the schedules of targets still ours, add and drop the rest. */
  private rebuild(): void {
    const present = new Set<string>();
    for (const service of this.view.values()) {
      present.add(service.service_id);
      this.consider(service);
    }
    for (const serviceId of this.scheduler.ids()) if (!present.has(serviceId)) this.scheduler.delete(serviceId);
    this.metrics.ownedTargets.set(this.scheduler.size);
    this.logger.info({ members: this.membership.members.length, owned: this.scheduler.size }, 'probe targets rebuilt');
  }
}
