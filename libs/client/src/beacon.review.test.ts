import { describe, expect, it } from 'vitest';
import { Beacon } from './beacon';

describe('new Beacon(options) refuses limits that cannot work, naming the option', () => {
  it.each([
    ['timeoutMs', -1],
    ['timeoutMs', 0],
    ['timeoutMs', Number.NaN],
    ['timeoutMs', 2 ** 40],
    ['maxResponseBytes', Number.NaN],
    ['maxResponseBytes', -5],
    ['maxResponseBytes', 0],
  ] as const)('%s: %s', (option, value) => {
    expect(() => new Beacon({ url: 'http://127.0.0.1:1', [option]: value })).toThrow(new RegExp(`^${option} must be`));
  });

  it('takes ordinary values', () => {
    expect(new Beacon({ url: 'http://127.0.0.1:1', timeoutMs: 1, maxResponseBytes: 1 }).url).toBe('http://127.0.0.1:1');
    expect(new Beacon({ url: 'http://127.0.0.1:1', timeoutMs: 2_147_483_647 }).url).toBe('http://127.0.0.1:1');
  });
});
