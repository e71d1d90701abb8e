import { SERVICE_EVENTS_WILDCARD, Subjects, type Service } from '@beacon/contracts';
import {
  EventRecorder,
  fetchJson,
  requestJson,
  startApp,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidatePool, isEligible, pickFrom } from '../src/pick';
import { Watch, type PickStrategy } from '../src/watch';

/**
 * pick() against real processes: registry-api, realtime-gateway, health-prober checking
 * HTTP targets on loopback that the test flips between healthy and failing, and short-TTL
 * services that lapse. Each pick is judged against the registry's own events (recorded on
 * NATS, independently of the gateway): the record it returned must have been eligible at
 * its revision, and the watch must not yet have received the change that made it
 * ineligible. No timing allowance: both facts are about order, not speed.
 */
let registry: RegistryFixture;
let gateway: AppProcess;
let prober: AppProcess;
let recorder: EventRecorder<{ revision: number; service: Service }>;
let nats: NatsConnection;
let target: Server;
let targetPort = 0;
const replies = new Map<string, { status: number; load: number }>();

beforeAll(async () => {
  target = createServer((request, response) => {
    const reply = replies.get(request.url ?? '') ?? { status: 404, load: 0 };
    const body = JSON.stringify(reply.status === 200 ? { status: 'healthy', load_percentage: reply.load } : { status: 'unhealthy' });
    response.writeHead(reply.status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const address = target.address();
  targetPort = typeof address === 'object' && address ? address.port : 0;
  registry = await startRegistry();
  recorder = await EventRecorder.start(registry.nats.url, SERVICE_EVENTS_WILDCARD);
  nats = await connect({ servers: registry.nats.url });
  [gateway, prober] = await Promise.all([
    startApp('realtime-gateway', { env: { NATS_URL: registry.nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('health-prober', { env: { NATS_URL: registry.nats.url, BEACON_RESYNC_INTERVAL: '1' }, portVariable: 'HTTP_PORT' }),
  ]);
});

afterAll(async () => {
  await prober?.stop();
  await gateway?.stop();
  await recorder?.close();
  await nats?.close();
  await registry?.dispose();
  target.closeAllConnections();
  await new Promise((resolve) => target?.close(resolve));
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function checked(type: string, path: string, load: number): Promise<Service> {
  replies.set(path, { status: 200, load });
  return registry.register({
    type,
    ttl: 3600,
    health_check_url: `http://127.0.0.1:${targetPort}${path}`,
    health_check_interval: 1,
    health_check_timeout: 1,
    health_check_retries: 1,
    health_check_rise: 1,
  });
}

/** The registry's states of one service, by revision, as its events carried them. */
function truthOf(id: string): Map<number, { eligibleState: boolean; removed: boolean }> {
  const states = new Map<number, { eligibleState: boolean; removed: boolean }>();
  for (const { subject, data } of recorder.messages) {
    if (data.service?.service_id !== id) continue;
    const removed = subject === Subjects.serviceDeregistered;
    const eligibleState = !removed && data.service.status === 'active' && data.service.health !== 'unhealthy';
    states.set(data.revision ?? data.service.revision, { eligibleState, removed });
  }
  return states;
}

describe('pick()', () => {
  it('never returns an unhealthy, expired, inactive or removed instance while they change', async () => {
    const type = uniqueName('pick');
    const [light, middle, heavy] = await Promise.all([checked(type, '/a', 0.2), checked(type, '/b', 0.5), checked(type, '/c', 0.7)]);
    const lapsing = await registry.register({ type, ttl: 10 }); // no check, no heartbeat: it lapses
    const parked = await registry.register({ type, ttl: 3600 });
    expect((await fetchJson('PUT', `${registry.base}/services/${parked.service_id}`, { status: 'inactive' })).status).toBe(200);

    const watch = new Watch({ url: gateway.url }, { type }, { reconnectMinMs: 100 });
    // When each revision (or removal) of an id reached the watch.
    const arrivals = new Map<string, { revision: number; at: number }[]>();
    watch.onChange((change) => {
      const at = performance.now();
      const note = (id: string, revision: number): void => void arrivals.set(id, [...(arrivals.get(id) ?? []), { revision, at }]);
      if (change.kind === 'snapshot') for (const s of change.services) note(s.service_id, s.revision);
      else if (change.kind === 'upsert') note(change.service.service_id, change.service.revision);
      else note(change.service_id, Number.MAX_SAFE_INTEGER);
    });
    try {
      await watch.ready;
      const checkedIds = [light, middle, heavy].map((s) => s.service_id);
      await waitFor('three healthy instances', () => checkedIds.every((id) => watch.get(id)?.health === 'healthy'), 20_000);

      // least-load: the lowest reported load; round-robin: each eligible one once per cycle, in id order.
      for (let i = 0; i < 20; i += 1) expect(watch.pick('least-load')?.service_id).toBe(light.service_id);
      const eligibleIds = [...checkedIds, lapsing.service_id].sort();
      const cycle = Array.from({ length: eligibleIds.length * 2 }, () => watch.pick('round-robin')?.service_id);
      const start = eligibleIds.indexOf(cycle[0]!);
      expect(cycle).toEqual([...eligibleIds.slice(start), ...eligibleIds, ...eligibleIds.slice(0, start)]);

      // Flip the targets while picking as fast as the loop turns.
      const picks: { service: Service; at: number; wall: number }[] = [];
      let undefinedPicks = 0;
      let picking = true;
      const strategies: PickStrategy[] = ['random', 'round-robin', 'least-load'];
      const loop = (async () => {
        for (let turn = 0; picking; turn += 1) {
          const picked = watch.pick(strategies[turn % 3]);
          if (picked) picks.push({ service: picked, at: performance.now(), wall: Date.now() });
          else undefinedPicks += 1;
          if (turn % 20 === 0) await sleep(1);
        }
      })();
      const paths = ['/a', '/b', '/c'];
      const lapseAt = Date.parse(lapsing.expires_at);
      let sawLapsedButActive = false;
      for (let flip = 0; Date.now() < lapseAt + 2_000 || flip < 12; flip += 1) {
        const path = paths[flip % 3]!;
        const reply = replies.get(path)!;
        replies.set(path, { ...reply, status: reply.status === 200 ? 503 : 200 });
        await sleep(1_200);
        // Past its expires_at, before any sweep: the registry sent no event yet, the local clock rules it out.
        if (Date.now() > lapseAt && watch.get(lapsing.service_id)?.status === 'active') sawLapsedButActive = true;
      }
      // Everything checked fails at once, for a moment: only the lapsing one would be left, and it is past its time.
      for (const path of paths) replies.set(path, { ...replies.get(path)!, status: 503 });
      await waitFor('every checked instance unhealthy', () => checkedIds.every((id) => watch.get(id)?.health === 'unhealthy'), 20_000);
      expect(watch.pick()).toBeUndefined();
      const sweep = await requestJson<{ expired: number }>(nats, Subjects.registrySweep, { now: new Date().toISOString() });
      expect(sweep.expired).toBeGreaterThanOrEqual(1);
      await waitFor('the expiry to reach the watch', () => watch.get(lapsing.service_id)?.status === 'expired', 20_000);
      for (const path of paths) replies.set(path, { ...replies.get(path)!, status: 200 });
      await waitFor('recovery', () => checkedIds.every((id) => watch.get(id)?.health === 'healthy'), 20_000);
      picking = false;
      await loop;

      expect(sawLapsedButActive).toBe(true);
      expect(picks.length).toBeGreaterThan(1_000);
      expect(undefinedPicks).toBeGreaterThan(0);
      const violations: string[] = [];
      for (const { service, at, wall } of picks) {
        const id = service.service_id;
        if (id === parked.service_id) violations.push(`picked the inactive ${id}`);
        if (Date.parse(service.expires_at) <= wall) violations.push(`picked ${id} past its expires_at`);
        const truth = truthOf(id);
        const state = truth.get(service.revision);
        if (!state) violations.push(`picked ${id} at revision ${service.revision}, which the registry never published`);
        else if (!state.eligibleState) violations.push(`picked ${id} at revision ${service.revision}: not active or unhealthy then`);
        // The first later change that ruled it out must not have reached the watch before this pick.
        const ruledOut = [...truth.entries()].filter(([revision, s]) => revision > service.revision && !s.eligibleState).map(([r]) => r);
        const next = Math.min(...ruledOut);
        const arrived = (arrivals.get(id) ?? []).find((a) => a.revision >= next);
        if (arrived && arrived.at <= at) violations.push(`picked ${id} at revision ${service.revision} after revision ${next} had arrived`);
      }
      expect(violations.slice(0, 10)).toEqual([]);
      // The run did exercise what it judges: every checked instance went unhealthy and came back at least once.
      for (const id of checkedIds) expect([...truthOf(id).values()].filter((s) => !s.eligibleState).length).toBeGreaterThan(0);
      expect(new Set(picks.map((p) => p.service.service_id))).toEqual(new Set(eligibleIds));
    } finally {
      await watch.close();
    }
  }, 120_000);

  it('isEligible: the rules on records the registry returned', async () => {
    const service = await registry.register({ type: uniqueName('rules'), ttl: 3600 });
    const now = Date.now();
    expect(isEligible(service, now)).toBe(true);
    expect(isEligible({ ...service, health: 'degraded' }, now)).toBe(true);
    expect(isEligible({ ...service, health: 'unhealthy' }, now)).toBe(false);
    expect(isEligible({ ...service, status: 'inactive' }, now)).toBe(false);
    expect(isEligible(service, Date.parse(service.expires_at) + 1)).toBe(false);

    // Degraded instances only when nothing better is left; an unknown load counts as full.
    const as = (id: string, fields: Partial<Service>): Service => ({ ...service, service_id: id, ...fields });
    const slow = as('a', { health: 'degraded', load: 0 });
    const fine = as('b', { health: 'healthy', load: 0.9 });
    const silent = as('c', { health: 'unknown', load: null });
    expect(pickFrom([slow, fine, silent], 'least-load', {}, now)?.service_id).toBe('b');
    expect(pickFrom([slow, silent], 'least-load', {}, now)?.service_id).toBe('c');
    expect(pickFrom([slow, as('d', { health: 'unhealthy' })], 'random', {}, now)?.service_id).toBe('a');
    expect(pickFrom([as('d', { status: 'expired' })], 'round-robin', {}, now)).toBeUndefined();
    // Round-robin continues after the last id picked, even when that one has gone meanwhile.
    const cursor = { last: 'b' };
    expect(pickFrom([fine, silent, as('e', {})], 'round-robin', cursor, now)?.service_id).toBe('c');
    expect(pickFrom([as('a2', {}), as('e', {})], 'round-robin', cursor, now)?.service_id).toBe('e');
    expect(pickFrom([as('a2', {}), as('e', {})], 'round-robin', cursor, now)?.service_id).toBe('a2');
    // The cached pool holds until the first eligible record lapses (a Map's values, read once).
    const soon = as('s', { expires_at: new Date(now + 5_000).toISOString() });
    const cache = new Map(
      [fine, soon, as('x', { status: 'inactive', expires_at: new Date(now + 1).toISOString() })].map((r) => [r.service_id, r]),
    );
    const { pool, validUntil } = candidatePool(cache.values(), now);
    expect(pool.map((r) => r.service_id)).toEqual(['b', 's']);
    expect(validUntil).toBe(now + 5_000);
  });
});
