import { Subjects, WIRE_VERSION, type ProbeResult } from '@beacon/contracts';
import { NatsService } from '@beacon/platform';
import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { describeError, failed, type CheckOutcome } from './checks/check-outcome';
import { HttpCheck } from './checks/http-check';
import { TcpCheck } from './checks/tcp-check';
import { PROBER_ENV, type ProberEnv } from './config';
import type { ProbeTarget } from './probe-target';
import { ProberMetrics } from './prober.metrics';

/** The contract allows an `error` of up to 1,000 characters. */
const MAX_ERROR_LENGTH = 1000;

/** Runs one check, turns its outcome into a `ProbeResult`, and publishes results. */
@Injectable()
export class ProbeRunner {
  constructor(
    @Inject(HttpCheck) private readonly http: HttpCheck,
    @Inject(TcpCheck) private readonly tcp: TcpCheck,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(ProberMetrics) private readonly metrics: ProberMetrics,
    @Inject(PROBER_ENV) private readonly config: ProberEnv,
  ) {}

  async check(serviceId: string, target: ProbeTarget): Promise<ProbeResult> {
    this.metrics.inFlight.inc();
    const started = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome =
        target.kind === 'http'
          ? await this.http.check(target.target, target.timeoutMs)
          : await this.tcp.check(target.target, target.timeoutMs);
    } catch (error) {
      // The checks report failures as outcomes; anything thrown is a bug, still reported as a result.
      outcome = failed('error', describeError(error));
    } finally {
      this.metrics.inFlight.dec();
    }
    const elapsedMs = performance.now() - started;
    this.metrics.observe(outcome.outcome, target.kind, elapsedMs / 1000);
    return {
      service_id: serviceId,
      kind: target.kind,
      target: target.target,
      ok: outcome.ok,
      health: outcome.health,
      outcome: outcome.outcome,
      status_code: outcome.status_code,
      response_time_ms: Math.round(elapsedMs * 100) / 100,
      load: outcome.load,
      error: outcome.error === null ? null : outcome.error.slice(0, MAX_ERROR_LENGTH),
      checked_at: new Date().toISOString(),
      prober_id: this.config.MEMBER_ID,
    };
  }

  publish(result: ProbeResult): void {
    this.nats.publish(Subjects.probeResult, { v: WIRE_VERSION, type: 'probe.result', timestamp: result.checked_at, result });
  }
}
