import type { Service } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { control } from '../feed/outgoing';
import { snapshotParts } from './snapshot';

const service = (index: number): Service =>
  ({ service_id: `id-${index}`, name: `svc-${index}`, padding: 'p'.repeat(1000) }) as unknown as Service;

describe('snapshotParts', () => {
  it('joins into the same message as one control("snapshot"), in parts of bounded size', () => {
    for (const count of [0, 1, 500]) {
      const services = Array.from({ length: count }, (_, index) => service(index));
      const parts = [...snapshotParts(services, { seq: 7, revision: 42 })];
      const joined = JSON.parse(parts.join('')) as Record<string, unknown>;
      const whole = JSON.parse(control('snapshot', { data: { services, total: count }, seq: 7, revision: 42 })) as Record<string, unknown>;
      expect({ ...joined, timestamp: 't' }).toEqual({ ...whole, timestamp: 't' });
      expect(Object.keys(joined)).toEqual(Object.keys(whole));
      expect(Math.max(...parts.map((part) => part.length))).toBeLessThan(70 * 1024);
    }
  });
});
