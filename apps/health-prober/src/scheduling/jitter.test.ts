import { describe, expect, it } from 'vitest';
import { firstCheckDelay, jitteredInterval } from './jitter';

/** The largest value Math.random can return. */
const ALMOST_ONE = 1 - Number.EPSILON;

describe('jitteredInterval', () => {
  it('stays within interval ± jitter at both ends of the random range', () => {
    expect(jitteredInterval(10_000, 0.1, () => 0)).toBe(9000);
    expect(jitteredInterval(10_000, 0.1, () => ALMOST_ONE)).toBeCloseTo(11_000, 6);
    expect(jitteredInterval(10_000, 0.1, () => 0.5)).toBe(10_000);
    expect(jitteredInterval(10_000, 0, () => 0)).toBe(10_000);
    expect(jitteredInterval(1000, 0.5, () => 0)).toBe(500);
  });

  it('spreads real random draws over the whole band and never outside it', () => {
    const draws = Array.from({ length: 5000 }, () => jitteredInterval(1000, 0.1));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...draws)).toBeLessThanOrEqual(1100);
    expect(Math.min(...draws)).toBeLessThan(910);
    expect(Math.max(...draws)).toBeGreaterThan(1090);
  });
});

describe('firstCheckDelay', () => {
  it('falls anywhere within one interval', () => {
    expect(firstCheckDelay(2000, () => 0)).toBe(0);
    expect(firstCheckDelay(2000, () => ALMOST_ONE)).toBeLessThan(2000);
    const draws = Array.from({ length: 5000 }, () => firstCheckDelay(2000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(2000);
    expect(Math.max(...draws) - Math.min(...draws)).toBeGreaterThan(1800);
  });
});
