import { describe, expect, it } from 'vitest';
import { laneAfter, laneLimits } from './lanes';

describe('laneLimits', () => {
  it('keeps a quarter of the slots for fast targets and another for new ones', () => {
    expect(laneLimits(256)).toEqual({ all: 256, unproven: 192, slow: 128 });
    expect(laneLimits(4)).toEqual({ all: 4, unproven: 3, slow: 2 });
  });

  it('reserves nothing below 4 slots, and slow targets always get one', () => {
    expect(laneLimits(1)).toEqual({ all: 1, unproven: 1, slow: 1 });
    expect(laneLimits(3)).toEqual({ all: 3, unproven: 3, slow: 3 });
  });
});

describe('laneAfter', () => {
  it('is slow after a timeout or a check of a second or more, fast otherwise (failures included)', () => {
    expect(laneAfter('timeout', 1000)).toBe('slow');
    expect(laneAfter('healthy', 1500)).toBe('slow');
    expect(laneAfter('healthy', 12)).toBe('fast');
    expect(laneAfter('error', 3)).toBe('fast');
    expect(laneAfter(null, 3)).toBe('fast');
  });
});
