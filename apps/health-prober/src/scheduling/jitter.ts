/**
 * When checks run. Spreading them matters at scale: thousands of targets registered
 * together would otherwise be checked in lockstep, every interval, in one burst.
 */

/** A random uniform number in [0, 1). Injected so tests can pin the ends of the range. */
export type Random = () => number;

/** Delay before a new target's first check: anywhere within one interval. */
export function firstCheckDelay(intervalMs: number, random: Random = Math.random): number {
  return random() * intervalMs;
}

/** The interval with ±`jitter` (a fraction, e.g. 0.1 = ±10%) applied, so targets drift apart over time. */
export function jitteredInterval(intervalMs: number, jitter: number, random: Random = Math.random): number {
  return intervalMs * (1 + jitter * (2 * random() - 1));
}
