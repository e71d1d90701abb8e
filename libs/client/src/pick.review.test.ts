import type { Service } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { choose, pickFrom } from './pick';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function instance(id: string, fields: Partial<Service> = {}): Service {
  return {
    service_id: id,
    status: 'active',
    health: 'healthy',
    load: null,
    expires_at: new Date(NOW + 60_000).toISOString(),
    ...fields,
  } as Service;
}

describe('pick rules under hostile inputs', () => {
  it('round-robin stays fair while instances come and go: each present one once per cycle, a newcomer in the current cycle', () => {
    const live = new Map(['b', 'd', 'f'].map((id) => [id, instance(id)]));
    const cursor: { last?: string } = {};
    const next = (): string | undefined => pickFrom(live.values(), 'round-robin', cursor, NOW)?.service_id;
    expect([next(), next()]).toEqual(['b', 'd']);
    live.set('e', instance('e')); // after the cursor: still this cycle
    live.set('a', instance('a')); // before it: next cycle
    live.delete('f');
    expect([next(), next(), next(), next(), next()]).toEqual(['e', 'a', 'b', 'd', 'e']);
    live.delete('e'); // the last one picked goes away: the cycle goes on after its place
    expect([next(), next()]).toEqual(['a', 'b']);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i += 1) {
      const id = next()!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 100, b: 100, d: 100 });
    expect(pickFrom([], 'round-robin', cursor, NOW)).toBeUndefined();
  });

  it('least-load: an absent, null or non-finite load counts as full; the lowest wins; ties are shared', () => {
    const pool = [
      instance('a', { load: null }),
      instance('b', { load: Number.NaN }),
      instance('c', { load: 0.4 }),
      instance('d', { load: Number.POSITIVE_INFINITY }),
      instance('e', {}),
    ];
    expect(choose(pool, 'least-load', {}, () => 0)?.service_id).toBe('c');
    const unknown = [instance('a', { load: null }), instance('b', { load: Number.NaN }), instance('e')];
    const seen = new Set([0, 0.4, 0.99].map((r) => choose(unknown, 'least-load', {}, () => r)?.service_id));
    expect(seen).toEqual(new Set(['a', 'b', 'e']));
  });

  it('all degraded: one of them (slow beats nothing); all unhealthy, inactive or expired: none', () => {
    const degraded = [instance('a', { health: 'degraded' }), instance('b', { health: 'degraded', load: 0.1 })];
    expect(pickFrom(degraded, 'least-load', {}, NOW)?.service_id).toBe('b');
    const none = [
      instance('a', { health: 'unhealthy' }),
      instance('b', { status: 'inactive' }),
      instance('c', { expires_at: new Date(NOW - 1).toISOString() }),
      instance('d', { expires_at: 'not a date' }),
    ];
    for (const strategy of ['random', 'round-robin', 'least-load'] as const) expect(pickFrom(none, strategy, {}, NOW)).toBeUndefined();
  });
});
