import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_MS, backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('keeps the interval until the service has failed enough times to be unhealthy', () => {
    expect(backoffDelay(1000, 0, 3)).toBeNull();
    expect(backoffDelay(1000, 2, 3)).toBeNull();
  });

  it('then doubles with each further timeout, up to a minute', () => {
    expect([3, 4, 5, 6, 7, 8].map((timeouts) => backoffDelay(1000, timeouts, 3))).toEqual([2000, 4000, 8000, 16000, 32000, 60000]);
    expect(backoffDelay(1000, 1000, 3)).toBe(MAX_BACKOFF_MS);
  });

  it('never checks a target less often than its own interval asks, when that is longer than the cap', () => {
    expect(backoffDelay(600_000, 5, 1)).toBe(600_000);
  });
});
