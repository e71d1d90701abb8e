import type { HealthCheckEntry } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { checksIn, windowDocument } from './mongo-uptime';

const entry = (checked_at: string, outcome: HealthCheckEntry['outcome'], response_time_ms: number): HealthCheckEntry => ({
  checked_at,
  kind: 'http',
  health: outcome === 'healthy' ? 'healthy' : 'unhealthy',
  outcome,
  status_code: null,
  response_time_ms,
  load: null,
  error: null,
});

describe('MongoDB uptime', () => {
  it("takes a window's checks out of the histories: [from, to), passing when healthy or degraded", () => {
    const from = Date.UTC(2030, 0, 1, 0, 5);
    const to = from + 300_000;
    const points = checksIn(
      [
        {
          _id: 'a',
          checks: [
            entry('2030-01-01T00:04:59.999Z', 'healthy', 1),
            entry('2030-01-01T00:05:00.000Z', 'degraded', 2),
            entry('2030-01-01T00:09:59.999Z', 'timeout', 3),
            entry('2030-01-01T00:10:00.000Z', 'healthy', 4),
          ],
        },
      ],
      from,
      to,
    );
    expect(points).toEqual([
      { service_id: 'a', checked_at: from, ok: true, response_time_ms: 2 },
      { service_id: 'a', checked_at: to - 1, ok: false, response_time_ms: 3 },
    ]);
  });

  it('names a window by service and start, so writing it again replaces it', () => {
    const window = { service_id: 'a', start: 300_000, checks: 1, failures: 0, availability: 1, latency: null };
    expect(windowDocument(window)._id).toBe('a:300000');
  });
});
