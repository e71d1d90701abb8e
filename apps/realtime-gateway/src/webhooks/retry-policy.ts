/** When a failed delivery is tried again, or why it is not. */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

export interface RetryPolicy {
  /** Longest wait between two tries. */
  maxDelayMs: number;
  /** How long after its event a delivery is still tried. */
  retryForMs: number;
}

const FIRST_DELAY_MS = 1000;

/**
 * The wait before try `attempt + 1`, after try `attempt` (1-based) failed in a way worth
 * retrying: 1 s doubling up to the maximum, or the receiver's `Retry-After` when it is
 * sane (within the maximum), and never past the retry horizon (the last try lands on it).
 * Past the horizon there is no retry.
 */
export function nextRetry(policy: RetryPolicy, attempt: number, eventAt: number, now: number, retryAfterMs: number | null): RetryDecision {
  const deadline = eventAt + policy.retryForMs;
  if (now >= deadline) {
    return { retry: false, reason: `gave up: still failing ${Math.round(policy.retryForMs / 1000)} s after the event` };
  }
  const backoff = Math.min(policy.maxDelayMs, FIRST_DELAY_MS * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  const asked = retryAfterMs !== null && retryAfterMs > 0 && retryAfterMs <= policy.maxDelayMs ? retryAfterMs : null;
  const delay = Math.max(FIRST_DELAY_MS, asked ?? backoff);
  return { retry: true, delayMs: Math.min(delay, Math.max(FIRST_DELAY_MS, deadline - now)) };
}
