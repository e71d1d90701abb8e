import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap';

describe('MinHeap', () => {
  it('hands items out smallest first, whatever order they came in', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const input = Array.from({ length: 200 }, (_, index) => (index * 7919) % 200);
    for (const value of input) heap.push(value);
    expect(heap.size).toBe(200);
    expect(heap.peek()).toBe(0);
    const out: number[] = [];
    for (let value = heap.pop(); value !== undefined; value = heap.pop()) out.push(value);
    expect(out).toEqual([...input].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
  });

  it('drains to empty', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    heap.push(2);
    heap.push(1);
    expect(heap.drain().sort()).toEqual([1, 2]);
    expect(heap.size).toBe(0);
  });
});
