import type { Service } from '@beacon/contracts';
import { parseHostPort } from './checks/tcp-check';

/** What to check for one service, and how often: everything a scheduled check needs from the record. */
export interface ProbeTarget {
  kind: 'http' | 'tcp';
  /** The URL or `host:port`. */
  target: string;
  /** The host as written in the target (the URL parser's canonical form): the unit of `PROBE_PER_HOST_CONCURRENCY`. */
  host: string;
  intervalMs: number;
  timeoutMs: number;
  /** Failures in a row that make the service unhealthy (`health_check_retries`): the timeouts before backing off. */
  retries: number;
}

/** The service's check (HTTP if it has a URL, else TCP), or null if it has none. */
export function probeTargetOf(service: Service): ProbeTarget | null {
  const timing = {
    intervalMs: service.health_check_interval * 1000,
    timeoutMs: service.health_check_timeout * 1000,
    retries: service.health_check_retries,
  };
  if (service.health_check_url) {
    return { kind: 'http', target: service.health_check_url, host: urlHost(service.health_check_url), ...timing };
  }
  if (service.health_check_tcp) {
    return { kind: 'tcp', target: service.health_check_tcp, host: tcpHost(service.health_check_tcp), ...timing };
  }
  return null;
}

/** Spelled as a URL's hostname would be, so an HTTP and a TCP check of one host share its cap. */
function tcpHost(hostPort: string): string {
  const host = parseHostPort(hostPort)?.host.toLowerCase();
  if (host === undefined) return hostPort;
  return host.includes(':') ? `[${host}]` : host;
}

/** `http://0x7f.1/` and `http://127.0.0.1/` are one host; an unparsable URL is its own (its check fails at once). */
function urlHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** Whether a change of target needs a new schedule (a new timeout or retry count alone does not). */
export function sameSchedule(a: ProbeTarget, b: ProbeTarget): boolean {
  return a.kind === b.kind && a.target === b.target && a.intervalMs === b.intervalMs;
}
