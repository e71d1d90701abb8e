import { describe, expect, it } from 'vitest';
import { FairGate, type Ticket } from './fair-gate';
import type { Lane } from './lanes';

/** A task that runs until `finish()` is called; `started` tells whether it got a slot. */
interface Held {
  started: boolean;
  finish(): void;
  done: Promise<void>;
}

function hold(gate: FairGate, ticket: Partial<Ticket> & { lane?: Lane }, log?: string[], name?: string): Held {
  let finish: () => void = () => undefined;
  const held: Held = { started: false, finish: () => finish(), done: Promise.resolve() };
  held.done = gate.run({ lane: 'fast', host: 'h', due: 0, ...ticket }, () => {
    held.started = true;
    if (log && name) log.push(name);
    return new Promise<void>((resolve) => (finish = resolve));
  });
  return held;
}

/** Lets every promise that can settle settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FairGate', () => {
  it('hands a free slot to the earliest due waiter, not the first to arrive', async () => {
    const gate = new FairGate({ concurrency: 1, perHost: 10 });
    const order: string[] = [];
    const blocker = hold(gate, { due: 0 });
    const late = hold(gate, { due: 30 }, order, 'due 30');
    const early = hold(gate, { due: 10 }, order, 'due 10');
    const middle = hold(gate, { due: 20 }, order, 'due 20');
    const now = hold(gate, { due: -Infinity }, order, 'asked for now');
    await settle();
    for (const next of [blocker, now, early, middle]) {
      next.finish();
      await settle();
    }
    late.finish();
    await Promise.all([blocker.done, late.done, early.done, middle.done, now.done]);
    expect(order).toEqual(['asked for now', 'due 10', 'due 20', 'due 30']);
  });

  it('never lets slow and new checks take every slot: fast ones keep a quarter, new ones another', async () => {
    const gate = new FairGate({ concurrency: 4, perHost: 10 });
    // Five black holes, each on its own host, all due before anything else.
    const slow = [1, 2, 3, 4, 5].map((n) => hold(gate, { lane: 'slow', host: `bh${n}`, due: n }));
    await settle();
    expect(slow.filter((held) => held.started)).toHaveLength(2);
    expect(gate.activeIn('slow')).toBe(2);
    expect(gate.waiting).toBe(3);
    const fresh = [hold(gate, { lane: 'new', host: 'n1', due: 10 }), hold(gate, { lane: 'new', host: 'n2', due: 11 })];
    const fast = [hold(gate, { lane: 'fast', host: 'ok', due: 12 }), hold(gate, { lane: 'fast', host: 'ok', due: 13 })];
    await settle();
    // One new check fits under the unproven cap (3 of 4); the last slot is the fast lane's.
    expect(fresh.map((held) => held.started)).toEqual([true, false]);
    expect(fast.map((held) => held.started)).toEqual([true, false]);
    expect(gate.active).toBe(4);
    // A fast check ending frees a slot the next fast one takes, although black holes fell due earlier.
    fast[0]?.finish();
    await settle();
    expect(fast[1]?.started).toBe(true);
    expect(slow.filter((held) => held.started)).toHaveLength(2);
    // Nothing is dropped: as the black holes end, every waiter runs.
    for (const held of [...slow, ...fresh, ...fast]) held.finish();
    for (let round = 0; round < 6; round += 1) {
      await settle();
      for (const held of [...slow, ...fresh, ...fast]) held.finish();
    }
    await gate.idle();
    expect([...slow, ...fresh, ...fast].every((held) => held.started)).toBe(true);
    expect(gate.active).toBe(0);
  });

  it('caps the new and slow checks of one host, without holding up other hosts behind it', async () => {
    const gate = new FairGate({ concurrency: 10, perHost: 2 });
    const sameHost = [1, 2, 3, 4].map((n) => hold(gate, { lane: 'slow', host: 'dark', due: n }));
    const other = hold(gate, { lane: 'new', host: 'other', due: 99 });
    await settle();
    expect(sameHost.map((held) => held.started)).toEqual([true, true, false, false]);
    expect(other.started).toBe(true);
    sameHost[0]?.finish();
    await settle();
    expect(sameHost.map((held) => held.started)).toEqual([true, true, true, false]);
    for (const held of sameHost) held.finish();
    await settle();
    for (const held of sameHost) held.finish();
    other.finish();
    await gate.idle();
    expect(sameHost.every((held) => held.started)).toBe(true);
  });

  it('does not cap fast checks by host: a host that answers promptly may use every slot', async () => {
    const gate = new FairGate({ concurrency: 6, perHost: 2 });
    const fast = [1, 2, 3, 4, 5, 6].map((n) => hold(gate, { lane: 'fast', host: 'busy', due: n }));
    await settle();
    expect(fast.every((held) => held.started)).toBe(true);
    for (const held of fast) held.finish();
    await gate.idle();
  });

  it('refuses a limit below 1', () => {
    expect(() => new FairGate({ concurrency: 0, perHost: 1 })).toThrow(/concurrency/);
    expect(() => new FairGate({ concurrency: 1, perHost: 0 })).toThrow(/perHost/);
  });
});
