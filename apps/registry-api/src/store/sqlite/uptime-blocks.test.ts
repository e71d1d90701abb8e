import { describe, expect, it } from 'vitest';
import { BLOCK_S, blockOf, decodeBlock, encodeBlock, mergeCells, type Cell } from './uptime-blocks';

const block = blockOf(Date.UTC(2030, 0, 1, 7) / 1000);
const cell = (offset: number, extra: Partial<Cell> = {}): Cell => ({
  start: block + offset,
  checks: 10,
  failures: 1,
  up: null,
  p50: 30,
  p95: 80,
  p99: 120,
  max: 200,
  ...extra,
});

describe('uptime windows packed in blocks', () => {
  it('round-trips every kind of window, in about 7 bytes for a typical one', () => {
    const cells = [
      cell(0),
      cell(300, { checks: 0, failures: 0, up: 9_876, p50: null, p95: null, p99: null, max: null }),
      cell(900, { checks: 0, failures: 0, up: null, p50: null, p95: null, p99: null, max: null }),
      cell(1200, { p50: 500, p95: 40, p99: 7, max: 100_000 }), // not in order: each kept whole
      cell(1500, { checks: 3_000, failures: 3_000, p50: 0, p95: 0, p99: 0, max: 0 }),
      cell(BLOCK_S - 300, { checks: 1, failures: 0 }),
    ];
    expect(decodeBlock(block, encodeBlock(block, cells))).toEqual(cells);
    const day = Array.from({ length: BLOCK_S / 300 }, (_, index) => cell(index * 300));
    const bytes = encodeBlock(block, day).length;
    expect(decodeBlock(block, encodeBlock(block, day))).toEqual(day);
    expect(bytes / day.length).toBeLessThanOrEqual(7.1);
  });

  it('keeps windows whose distances share no common step, and an empty block', () => {
    const cells = [cell(7), cell(20), cell(21_599)];
    expect(decodeBlock(block, encodeBlock(block, cells))).toEqual(cells);
    expect(decodeBlock(block, encodeBlock(block, []))).toEqual([]);
  });

  it('puts a window in place of one of the same start, in order', () => {
    const merged = mergeCells([cell(0), cell(600)], [cell(300), cell(600, { failures: 0 })]);
    expect(merged.map((one) => [one.start - block, one.failures])).toEqual([
      [0, 1],
      [300, 1],
      [600, 0],
    ]);
  });

  it('refuses what it cannot store rather than writing a wrong block', () => {
    expect(() => encodeBlock(block, [cell(0, { failures: -1 })])).toThrow(RangeError);
    expect(() => decodeBlock(block, Uint8Array.from([1, 0x80]))).toThrow(RangeError);
  });
});
