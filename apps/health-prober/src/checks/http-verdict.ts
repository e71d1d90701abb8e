import type { CheckOutcome } from './check-outcome';

/**
 * Body `status` words and what they mean. Beyond seed 004's `healthy`/`degraded`/`unhealthy`
 * and the issue's `down`, the common health formats say the same in their own words:
 * the IETF health-check draft (`pass`/`warn`/`fail`) and Spring Boot (`UP`/`DOWN`/`OUT_OF_SERVICE`).
 * Any other word leaves the verdict to the status code.
 */
const DEGRADED = new Set(['degraded', 'warn', 'warning']);
const UNHEALTHY = new Set(['unhealthy', 'down', 'fail', 'failed', 'out_of_service']);

/**
 * The verdict on an HTTP answer: a 2xx is healthy unless its JSON body says `degraded` or
 * `unhealthy`; anything else is unhealthy. `body` is null when it was cut at the read cap
 * (a truncated document is not parsed). `load_percentage` (seed 004) is reported when it
 * is a number in 0..1: the seed defines it as a fraction, and a number above 1 could be a
 * percentage or garbage — guessing wrong either way would raise or hide a critical-load
 * alert, so it is left out.
 */
export function httpVerdict(statusCode: number, body: string | null): CheckOutcome {
  const document = parseObject(body);
  const load = readLoad(document);
  if (statusCode < 200 || statusCode > 299) {
    return { ok: false, health: 'unhealthy', outcome: 'unhealthy', status_code: statusCode, load, error: `HTTP ${statusCode}` };
  }
  const word = typeof document?.status === 'string' ? document.status.trim().toLowerCase() : null;
  if (word && UNHEALTHY.has(word)) {
    return { ok: false, health: 'unhealthy', outcome: 'unhealthy', status_code: statusCode, load, error: `body status "${word}"` };
  }
  if (word && DEGRADED.has(word)) {
    return { ok: true, health: 'degraded', outcome: 'degraded', status_code: statusCode, load, error: null };
  }
  return { ok: true, health: 'healthy', outcome: 'healthy', status_code: statusCode, load, error: null };
}

function parseObject(body: string | null): Record<string, unknown> | null {
  if (body === null) return null;
  const text = body.trim();
  if (!text.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function readLoad(document: Record<string, unknown> | null): number | null {
  const value = document?.load_percentage;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1 ? value : null;
}
