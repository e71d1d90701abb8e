import type { ProbeResult, Service } from '@beacon/contracts';
import { sleep, waitFor, type AppProcess } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack';
import { startTargetServer, type TargetServer } from './target-server';

/**
 * Two prober replicas share the targets by rendezvous hashing: each target is checked by
 * exactly one of them, and when one dies (SIGKILL) or leaves (SIGTERM) the other takes
 * its targets over. The survivor, prober-a, runs throughout; each test starts the other
 * replica it needs and waits until the targets are shared before it measures.
 */
const TARGETS = 20;
let stack: Stack;
let targets: TargetServer;
let survivor: AppProcess;
let ids: string[] = [];

/** Results received at or after `since` (test clock), by service. */
function checkersSince(since: number): Map<string, Set<string>> {
  const byService = new Map<string, Set<string>>();
  for (const message of stack.results.messages) {
    const result: ProbeResult = message.data.result;
    if (Date.parse(message.data.timestamp) < since) continue;
    const checkers = byService.get(result.service_id) ?? new Set<string>();
    checkers.add(result.prober_id);
    byService.set(result.service_id, checkers);
  }
  return byService;
}

/** Waits until, over the last 1.2 s (more than one check interval), every target had exactly one checker. */
const handedOver = (): Promise<unknown> =>
  waitFor(
    'one checker per target',
    () => {
      const checkers = checkersSince(Date.now() - 1200);
      return ids.every((id) => checkers.get(id)?.size === 1);
    },
    10_000,
  );

/** Starts another replica and waits until it has its share and the survivor gave that share up. */
async function join(memberId: string): Promise<AppProcess> {
  const replica = await stack.startProber({ MEMBER_ID: memberId });
  await waitFor(
    `${memberId} to check some targets`,
    () => [...checkersSince(Date.now() - 1500).values()].some((set) => set.has(memberId)),
    10_000,
  );
  await handedOver();
  return replica;
}

/** Waits until every target has been checked by `prober` since `since`; returns how long that took. */
async function allCheckedBy(prober: string, since: number, timeoutMs: number): Promise<number> {
  await waitFor(
    `every target checked by ${prober}`,
    () => {
      const checkers = checkersSince(since);
      return ids.every((id) => checkers.get(id)?.has(prober));
    },
    timeoutMs,
  );
  return Date.now() - since;
}

beforeAll(async () => {
  targets = await startTargetServer();
  stack = await startStack();
  // The survivor logs membership changes, so the test can tell a goodbye from a timeout.
  survivor = await stack.startProber({ MEMBER_ID: 'prober-a', LOG_LEVEL: 'info' });
  const registered: Service[] = [];
  for (let index = 0; index < TARGETS; index += 1) {
    registered.push(
      await stack.register({
        name: `replica-target-${index}`,
        host: '127.0.0.1',
        port: 30_000 + index,
        health_check_url: `${targets.url}/healthy?target=${index}`,
        health_check_interval: 1,
        health_check_timeout: 1,
      }),
    );
  }
  ids = registered.map((service) => service.service_id);
});

afterAll(async () => {
  await stack?.dispose();
  await targets?.close();
});

describe('two replicas', () => {
  it('check each target with exactly one replica in steady state, both doing some', async () => {
    // Settle: both have seen the catalog and each other, and every target has been checked.
    const start = Date.now();
    const partner = await join('prober-b');
    try {
      await waitFor('every target checked', () => checkersSince(start).size === TARGETS, 10_000);
      const since = Date.now();
      await sleep(3500); // the steady state observed
      const checkers = checkersSince(since);
      for (const id of ids) expect(checkers.get(id)?.size, `checkers of ${id}`).toBe(1);
      const shares = new Map<string, number>();
      for (const id of ids) for (const prober of checkers.get(id) ?? []) shares.set(prober, (shares.get(prober) ?? 0) + 1);
      expect([...shares.keys()].sort()).toEqual(['prober-a', 'prober-b']);
      expect(shares.get('prober-a')).toBeGreaterThan(0);
      expect(shares.get('prober-b')).toBeGreaterThan(0);
    } finally {
      await partner.stop();
    }
  });

  it('after SIGKILL of one, the other checks every target within 10 s', async () => {
    const victim = await join('prober-b');
    await victim.stop('SIGKILL');
    const killedAt = Date.now();
    const took = await allCheckedBy('prober-a', killedAt, 10_000);
    expect(took).toBeLessThan(10_000);
  });

  it('after SIGTERM of a replica, the other takes over at once, told by its goodbye', async () => {
    // Wait until the newcomer has its share and the survivor gave it up.
    const joiner = await join('prober-c');
    const stoppedAt = Date.now();
    expect(await joiner.stop('SIGTERM')).toBe(0);
    const took = await allCheckedBy('prober-a', stoppedAt, 10_000);
    // A silent replica is dropped only after 3 missed 1 s announcements; a goodbye is faster.
    expect(took).toBeLessThan(3000);
    expect(survivor.output()).toMatch(/"reason":"prober-c left"/);
  });
});
