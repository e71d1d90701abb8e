/** The longest a target that keeps timing out waits between checks (its own interval, if that is longer). */
export const MAX_BACKOFF_MS = 60_000;

/**
 * How long after its check ended a target whose last `timeouts` checks in a row timed out
 * waits for the next, or null to keep its interval. Its first `retries` timeouts keep the
 * interval: registry-api calls a service unhealthy after that many failures in a row, and
 * checking less often before then would only delay that. From there each further timeout
 * doubles the wait, up to MAX_BACKOFF_MS, so a black hole spends its own slot time, not
 * everyone else's, and a target that comes back is still seen within a minute.
 */
export function backoffDelay(intervalMs: number, timeouts: number, retries: number): number | null {
  if (timeouts < retries) return null;
  const doublings = Math.min(timeouts - retries + 1, 16);
  return Math.min(intervalMs * 2 ** doublings, Math.max(MAX_BACKOFF_MS, intervalMs));
}
