import { describe, expect, it } from 'vitest';
import type { Outgoing } from './outgoing';
import { ReplayRing } from './replay-ring';

const event = (seq: number, size: number): Outgoing => ({
  type: 'service_updated',
  seq,
  revision: seq,
  service: null,
  previous: null,
  publishedAt: 0,
  json: 'x'.repeat(size),
});

describe('ReplayRing', () => {
  it('drops the oldest events past its byte budget, whatever their count', () => {
    const ring = new ReplayRing({ maxEvents: 10_000, maxBytes: 1000 });
    for (let seq = 1; seq <= 50; seq += 1) ring.push(event(seq, 300));
    expect(ring.bytes).toBe(900);
    expect(ring.size).toBe(3);
    expect(ring.oldestSeq).toBe(48);
    expect(ring.after(0).map((e) => e.seq)).toEqual([48, 49, 50]);
    expect(ring.after(48).map((e) => e.seq)).toEqual([49, 50]);
  });

  it('drops the oldest past its count, and keeps one event larger than the whole budget until the next', () => {
    const ring = new ReplayRing({ maxEvents: 2, maxBytes: 1000 });
    for (let seq = 1; seq <= 5; seq += 1) ring.push(event(seq, 10));
    expect(ring.after(0).map((e) => e.seq)).toEqual([4, 5]);
    ring.push(event(6, 5000));
    expect(ring.after(0).map((e) => e.seq)).toEqual([6]);
    expect(ring.bytes).toBe(5000);
    ring.push(event(7, 10));
    expect(ring.after(0).map((e) => e.seq)).toEqual([7]);
    expect(ring.bytes).toBe(10);
  });
});
