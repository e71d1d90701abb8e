import { membersSubject, type MemberAnnouncement, type Service } from '@beacon/contracts';
import {
  EventRecorder,
  fetchJson,
  sleep,
  startApp,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type RegistryFixture,
} from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Real nats-server, registry-api and ttl-reaper processes; services registered over REST. */
interface Event {
  type: string;
  timestamp: string;
  service: Service;
  reason?: string;
}

let registry: RegistryFixture;
let events: EventRecorder<Event>;
let members: EventRecorder<MemberAnnouncement>;
const reapers: AppProcess[] = [];

const api = (path: string): string => `${registry.base}${path}`;

async function startReaper(env: Record<string, string> = {}): Promise<AppProcess> {
  const reaper = await startApp('ttl-reaper', {
    env: { NATS_URL: registry.nats.url, BEACON_TTL_CLEANUP_INTERVAL: '1', BEACON_EXPIRED_RETENTION: '2', ...env },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
  reapers.push(reaper);
  return reaper;
}

const register = (ttl = 10, name = uniqueName('reap')): Promise<Service> => registry.register({ name, host: '10.2.0.1', ttl });

/** Waits until every replica has announced itself after `since`, so each has heard the others. */
const heardEachOther = (replicas: number, since: number): Promise<unknown> =>
  waitFor(`${replicas} reapers announcing`, () => {
    const recent = members.messages.filter((m) => !m.data.leaving && Date.parse(m.data.timestamp) >= since);
    return new Set(recent.map((m) => m.data.member_id)).size >= replicas;
  });

const expiredEvents = (id: string): Event[] =>
  events.bySubject('beacon.events.service.expired').filter((event) => event.service.service_id === id);

/** Lateness of each service's expired event relative to its expires_at, in ms. */
async function expiryLags(services: Service[], timeoutMs = 20_000): Promise<number[]> {
  await waitFor('every service expired', () => services.every((s) => expiredEvents(s.service_id).length > 0), timeoutMs, 50);
  return services.map((s) => Date.parse((expiredEvents(s.service_id)[0] as Event).timestamp) - Date.parse(s.expires_at));
}

async function metric(process: AppProcess, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${process.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => pattern.test(line))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

beforeAll(async () => {
  registry = await startRegistry();
  events = await EventRecorder.start<Event>(registry.nats.url, 'beacon.events.service.>');
  members = await EventRecorder.start<MemberAnnouncement>(registry.nats.url, membersSubject('ttl-reaper'));
});

afterAll(async () => {
  for (const reaper of reapers) await reaper.stop('SIGKILL');
  await events?.close();
  await members?.close();
  await registry?.dispose();
});

describe('ttl-reaper', () => {
  it('expires a silent service within 1.5 s of expires_at, once; a heartbeat just before prevents it; then purges it', async () => {
    const reaper = await startReaper();
    const silent = await register(10);
    const kept = await register(10);
    await sleep(Date.parse(kept.expires_at) - Date.now() - 700); // the scenario: a heartbeat 0.7 s before the deadline
    const renewed = await fetchJson('PUT', api(`/services/${kept.service_id}/heartbeat`));
    expect(renewed.status).toBe(200);

    const [lag] = await expiryLags([silent]);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1500);
    const read = (await (await fetch(api(`/services/${silent.service_id}`))).json()) as Service;
    expect(read.status).toBe('expired');
    expect(((await (await fetch(api(`/services/${kept.service_id}`))).json()) as Service).status).toBe('active');

    // Retention is 2 s here: the purge removes it and says why.
    await waitFor(
      'purge',
      () =>
        events
          .bySubject('beacon.events.service.deregistered')
          .some((e) => e.service.service_id === silent.service_id && e.reason === 'purged'),
      10_000,
    );
    expect((await fetch(api(`/services/${silent.service_id}`))).status).toBe(404);
    expect(expiredEvents(silent.service_id)).toHaveLength(1);
    expect(expiredEvents(kept.service_id)).toHaveLength(0);
    expect(await metric(reaper, /^beacon_expiry_lag_seconds_count/)).toBeGreaterThanOrEqual(1);
    expect((await fetch(api(`/services/${kept.service_id}`), { method: 'DELETE' })).status).toBe(204);
    await reaper.stop();
    reapers.splice(reapers.indexOf(reaper), 1);
  }, 40_000);

  it('splits services between two replicas, and the survivor takes over a killed one’s without missing a deadline', async () => {
    const started = Date.now();
    const first = await startReaper();
    const second = await startReaper();
    // Let them find each other before deadlines are placed.
    await heardEachOther(2, started);
    const batch = await Promise.all(Array.from({ length: 30 }, () => register(10)));
    await waitFor('both replicas own some', async () => {
      const owned = [await metric(first, /^beacon_reaper_owned_services/), await metric(second, /^beacon_reaper_owned_services/)] as const;
      return owned[0] > 0 && owned[1] > 0 && owned[0] + owned[1] === 30;
    });
    // Kill one well before the deadlines: its services must still expire on time.
    await first.stop('SIGKILL');
    reapers.splice(reapers.indexOf(first), 1);
    const lags = await expiryLags(batch);
    expect(Math.max(...lags)).toBeLessThan(1500);
    for (const service of batch) expect(expiredEvents(service.service_id)).toHaveLength(1);
    expect(await metric(second, /^beacon_reaper_expirations_total\{result="expired"/)).toBe(30);

    // With both alive, each service is expired by exactly one replica and nobody duplicates work.
    const thirdStarted = Date.now();
    const third = await startReaper();
    await heardEachOther(2, thirdStarted);
    const next = await Promise.all(Array.from({ length: 30 }, () => register(10)));
    await expiryLags(next);
    const expiredBy = [
      await metric(second, /^beacon_reaper_expirations_total\{result="expired"/),
      await metric(third, /^beacon_reaper_expirations_total\{result="expired"/),
    ] as const;
    expect(expiredBy[0] - 30 + expiredBy[1]).toBe(30);
    expect(expiredBy[0] - 30).toBeGreaterThan(0);
    expect(expiredBy[1]).toBeGreaterThan(0);
    expect(await metric(third, /^beacon_reaper_expirations_total\{result="declined"/)).toBe(0);
  }, 60_000);
});
