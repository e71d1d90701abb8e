import { Subjects, type ProbeResult, type ProbeResultEvent, type Service } from '@beacon/contracts';
import type { NatsConnection } from 'nats';
import { publishJson } from './nats-json';

/** A passing HTTP check of `service` at this moment; `overrides` make it anything else. */
export function probeResult(service: Pick<Service, 'service_id' | 'health_check_url'>, overrides: Partial<ProbeResult> = {}): ProbeResult {
  return {
    service_id: service.service_id,
    kind: 'http',
    target: service.health_check_url ?? '',
    ok: true,
    health: 'healthy',
    outcome: 'healthy',
    status_code: 200,
    response_time_ms: 1,
    load: null,
    error: null,
    checked_at: new Date().toISOString(),
    prober_id: 'test',
    ...overrides,
  };
}

/** Publishes a check result exactly as health-prober does, for suites that play the prober. */
export function publishProbeResult(connection: NatsConnection, result: ProbeResult): void {
  const event: ProbeResultEvent = { v: 1, type: 'probe.result', timestamp: result.checked_at, result };
  publishJson(connection, Subjects.probeResult, event);
}
