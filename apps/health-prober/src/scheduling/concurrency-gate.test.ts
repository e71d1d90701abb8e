import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

describe('ConcurrencyGate', () => {
  it('runs at most `limit` tasks at once; the rest wait in order and all run', async () => {
    const gate = new ConcurrencyGate(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const tasks = Array.from({ length: 20 }, (_, index) =>
      gate.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(index);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running -= 1;
        return index;
      }),
    );
    expect(gate.active).toBe(3);
    expect(gate.waiting).toBe(17);
    expect(await Promise.all(tasks)).toEqual(order.slice().sort((a, b) => a - b));
    expect(peak).toBe(3);
    expect(order).toEqual([...Array(20).keys()]);
    expect(gate.active).toBe(0);
  });

  it('lets urgent tasks go ahead of those waiting', async () => {
    const gate = new ConcurrencyGate(1);
    const blocker = deferred();
    const order: string[] = [];
    const first = gate.run(() => blocker.promise);
    const queued = ['a', 'b'].map((name) => gate.run(async () => void order.push(name)));
    const urgent = gate.run(async () => void order.push('urgent'), { urgent: true });
    blocker.resolve();
    await Promise.all([first, ...queued, urgent]);
    expect(order).toEqual(['urgent', 'a', 'b']);
  });

  it('frees the slot when a task throws', async () => {
    const gate = new ConcurrencyGate(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'next')).toBe('next');
  });

  it('idle() waits for running and waiting tasks', async () => {
    const gate = new ConcurrencyGate(1);
    const blocker = deferred();
    let done = 0;
    void gate.run(() => blocker.promise).then(() => (done += 1));
    void gate.run(async () => void (done += 1));
    let idle = false;
    const idlePromise = gate.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    blocker.resolve();
    await idlePromise;
    expect(done).toBe(2);
    await gate.idle();
  });

  it('keeps order through a long queue (compaction)', async () => {
    const gate = new ConcurrencyGate(1);
    const seen: number[] = [];
    await Promise.all(Array.from({ length: 5000 }, (_, index) => gate.run(async () => void seen.push(index))));
    expect(seen).toEqual([...Array(5000).keys()]);
  });

  it('refuses a limit below 1', () => {
    expect(() => new ConcurrencyGate(0)).toThrow();
  });
});
