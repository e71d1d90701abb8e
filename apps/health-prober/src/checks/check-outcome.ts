import type { HealthState, ProbeOutcome } from '@beacon/contracts';

/** What one check found, before it is stamped with service, target, time and prober. */
export interface CheckOutcome {
  /** The service answered as alive (`healthy` or `degraded`). */
  ok: boolean;
  health: HealthState;
  outcome: ProbeOutcome;
  status_code: number | null;
  load: number | null;
  error: string | null;
}

/** A check that did not get a usable answer: the target counts as unhealthy. */
export function failed(outcome: 'error' | 'timeout' | 'refused', error: string, statusCode: number | null = null): CheckOutcome {
  return { ok: false, health: 'unhealthy', outcome, status_code: statusCode, load: null, error };
}

export function timedOut(timeoutMs: number): CheckOutcome {
  return failed('timeout', `no answer within ${timeoutMs} ms`);
}

/** Short, log-safe text for a failure: the system error code (`ECONNREFUSED`) when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code)) return code;
    return error.message.slice(0, 200) || error.name;
  }
  return String(error).slice(0, 200);
}
