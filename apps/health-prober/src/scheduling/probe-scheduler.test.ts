import { afterEach, describe, expect, it } from 'vitest';
import type { ProbeTarget } from '../probe-target';
import { ProbeScheduler } from './probe-scheduler';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const target = (intervalMs: number, url = 'http://t/'): ProbeTarget => ({
  kind: 'http',
  target: url,
  host: new URL(url).hostname,
  intervalMs,
  timeoutMs: 1000,
  retries: 3,
});

let scheduler: ProbeScheduler | null = null;
afterEach(async () => {
  await scheduler?.stop();
  scheduler = null;
});

describe('ProbeScheduler', () => {
  it('checks each target about once per interval, the first time within one interval', async () => {
    const checks = new Map<string, number[]>();
    const started = Date.now();
    scheduler = new ProbeScheduler(
      async (id) => {
        checks.set(id, [...(checks.get(id) ?? []), Date.now() - started]);
        return null;
      },
      { concurrency: 10, perHost: 10, jitter: 0.1 },
    );
    for (const id of ['a', 'b', 'c']) scheduler.set(id, target(100));
    await sleep(560);
    for (const id of ['a', 'b', 'c']) {
      const times = checks.get(id) ?? [];
      expect(times[0], id).toBeLessThan(150);
      expect(times.length, id).toBeGreaterThanOrEqual(4);
      expect(times.length, id).toBeLessThanOrEqual(7);
      for (let index = 1; index < times.length; index += 1) {
        expect((times[index] as number) - (times[index - 1] as number)).toBeGreaterThanOrEqual(85);
      }
    }
  });

  it('never exceeds the concurrency limit, never runs one target twice at once, and drops nothing', async () => {
    let running = 0;
    let peak = 0;
    const active = new Set<string>();
    const counts = new Map<string, number>();
    let overlapped = false;
    scheduler = new ProbeScheduler(
      async (id) => {
        if (active.has(id)) overlapped = true;
        active.add(id);
        running += 1;
        peak = Math.max(peak, running);
        // Slower than the interval: every target is due again while it is still being checked.
        await sleep(40);
        running -= 1;
        active.delete(id);
        counts.set(id, (counts.get(id) ?? 0) + 1);
        return null;
      },
      { concurrency: 4, perHost: 4, jitter: 0 },
    );
    for (let index = 0; index < 12; index += 1) scheduler.set(`t${index}`, target(20));
    await sleep(600);
    expect(peak).toBe(4);
    expect(overlapped).toBe(false);
    // 600 ms × 4 slots / 40 ms ≈ 60 checks, shared fairly: every target got its turns.
    const perTarget = [...counts.values()];
    expect(perTarget).toHaveLength(12);
    expect(Math.min(...perTarget)).toBeGreaterThanOrEqual(3);
  });

  it('reschedules on a new URL or interval, keeps the schedule on a new timeout, and stops on delete', async () => {
    const seen: string[] = [];
    scheduler = new ProbeScheduler(
      async (id, probed) => {
        seen.push(`${id} ${probed.target} ${probed.timeoutMs}`);
        return null;
      },
      {
        concurrency: 10,
        perHost: 10,
        jitter: 0,
        random: () => 0.999,
      },
    );
    scheduler.set('a', target(200));
    scheduler.set('a', { ...target(200), timeoutMs: 5000 });
    await sleep(100);
    expect(seen).toEqual([]);
    await sleep(150);
    expect(seen).toEqual(['a http://t/ 5000']);
    scheduler.set('a', target(200, 'http://moved/'));
    await sleep(250);
    expect(seen.at(-1)).toBe('a http://moved/ 1000');
    scheduler.delete('a');
    const count = seen.length;
    await sleep(300);
    expect(seen.length).toBe(count);
    expect(scheduler.size).toBe(0);
  });

  it('stop() waits for the checks in flight and starts no more', async () => {
    let finished = 0;
    let startedChecks = 0;
    scheduler = new ProbeScheduler(
      async () => {
        startedChecks += 1;
        await sleep(100);
        finished += 1;
        return null;
      },
      { concurrency: 1, perHost: 1, jitter: 0, random: () => 0 },
    );
    scheduler.set('a', target(10));
    scheduler.set('b', target(10));
    await sleep(30);
    expect(scheduler.inFlight).toBe(1);
    await scheduler.stop();
    expect(finished).toBe(startedChecks);
    const after = startedChecks;
    await sleep(150);
    expect(startedChecks).toBe(after);
  });

  it('runNow shares the budget but goes ahead of waiting checks', async () => {
    const order: string[] = [];
    scheduler = new ProbeScheduler(
      async (id) => {
        order.push(id);
        await sleep(30);
        return null;
      },
      { concurrency: 1, perHost: 1, jitter: 0, random: () => 0 },
    );
    for (const id of ['a', 'b', 'c']) scheduler.set(id, target(10_000));
    await sleep(10);
    const now = scheduler.runNow('now', target(10_000), async () => void order.push('now'));
    await now;
    expect(order.slice(0, 2)).toEqual(['a', 'now']);
  });

  it('keeps checking a target that answers while black holes take every slot they may have', async () => {
    const checks = new Map<string, number>();
    let unprovenPeak = 0;
    scheduler = new ProbeScheduler(
      async (id) => {
        checks.set(id, (checks.get(id) ?? 0) + 1);
        if (!id.startsWith('hole')) return 'healthy';
        await sleep(1100);
        return 'timeout';
      },
      { concurrency: 4, perHost: 4, jitter: 0, random: () => 0 },
    );
    const probe = setInterval(() => {
      unprovenPeak = Math.max(unprovenPeak, (scheduler?.inFlightIn('new') ?? 0) + (scheduler?.inFlightIn('slow') ?? 0));
    }, 10);
    // Five black holes on five hosts, due first: one more than there are slots. In arrival
    // order they would hold all four, and the answering target would wait 1.1 s per turn.
    for (let n = 1; n <= 5; n += 1) scheduler.set(`hole${n}`, target(50, `http://10.0.0.${n}/`));
    scheduler.set('ok', target(50, 'http://ok/'));
    await sleep(1500);
    clearInterval(probe);
    expect(unprovenPeak).toBe(3);
    expect(checks.get('ok')).toBeGreaterThanOrEqual(10);
  });

  it('backs off a target that keeps timing out, once it has failed often enough to be unhealthy', async () => {
    const checks = new Map<string, number>();
    scheduler = new ProbeScheduler(
      async (id) => {
        checks.set(id, (checks.get(id) ?? 0) + 1);
        return id === 'hole' ? 'timeout' : 'error';
      },
      { concurrency: 4, perHost: 4, jitter: 0, random: () => 0 },
    );
    scheduler.set('hole', { ...target(20, 'http://hole/'), retries: 2 });
    scheduler.set('refusing', target(20, 'http://refusing/'));
    await sleep(800);
    expect(scheduler.backedOff).toBe(1);
    // Without backing off, about 40 each; backed off: 2 on time, then waits of 40, 80, 160, 320 ms.
    expect(checks.get('refusing')).toBeGreaterThanOrEqual(25);
    expect(checks.get('hole')).toBeLessThanOrEqual(8);
  });
});
