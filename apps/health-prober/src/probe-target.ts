import type { Service } from '@beacon/contracts';

/** What to check for one service, and how often: everything a scheduled check needs from the record. */
export interface ProbeTarget {
  kind: 'http' | 'tcp';
  /** The URL or `host:port`. */
  target: string;
  intervalMs: number;
  timeoutMs: number;
}

/** The service's check (HTTP if it has a URL, else TCP), or null if it has none. */
export function probeTargetOf(service: Service): ProbeTarget | null {
  const timing = { intervalMs: service.health_check_interval * 1000, timeoutMs: service.health_check_timeout * 1000 };
  if (service.health_check_url) return { kind: 'http', target: service.health_check_url, ...timing };
  if (service.health_check_tcp) return { kind: 'tcp', target: service.health_check_tcp, ...timing };
  return null;
}

/** Whether a change of target needs a new schedule (a new timeout alone does not). */
export function sameSchedule(a: ProbeTarget, b: ProbeTarget): boolean {
  return a.kind === b.kind && a.target === b.target && a.intervalMs === b.intervalMs;
}
