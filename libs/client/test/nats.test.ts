import { Subjects } from '@beacon/contracts';
import { startRegistry, uniqueName, waitFor, type RegistryFixture } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeEvents, type BeaconEvent } from '../src/nats';

type Registered = BeaconEvent<typeof Subjects.serviceRegistered>;

/** Reads `count` events from a subscription (bounded in time), then closes it. */
async function take<T>(subscription: AsyncIterable<T> & { close(): Promise<void> }, count: number, timeoutMs = 15_000): Promise<T[]> {
  const events: T[] = [];
  const giveUp = setTimeout(() => void subscription.close(), timeoutMs);
  try {
    for await (const event of subscription) {
      events.push(event);
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(giveUp);
    await subscription.close();
  }
  return events;
}

describe('subscribeEvents over BEACON_EVENTS (real nats-server and registry-api)', () => {
  let registry: RegistryFixture;
  let nc: NatsConnection;
  const names = [uniqueName('sdk-nats-a'), uniqueName('sdk-nats-b'), uniqueName('sdk-nats-c')];
  let betweenBAndC: Date;

  beforeAll(async () => {
    registry = await startRegistry();
    nc = await connect({ servers: registry.nats.url });
    await registry.register({ name: names[0] });
    await registry.register({ name: names[1] });
    await new Promise((done) => setTimeout(done, 1_100));
    betweenBAndC = new Date();
    await new Promise((done) => setTimeout(done, 1_100));
    await registry.register({ name: names[2] });
    // The registrations reach the stream through registry-api's outbox: wait until all three are there.
    const jsm = await nc.jetstreamManager();
    await waitFor('three registrations stored', async () => {
      const last = await jsm.streams.getMessage('BEACON_EVENTS', { last_by_subj: Subjects.serviceRegistered }).catch(() => undefined);
      return last !== undefined && last.string().includes(names[2]!);
    });
  });
  afterAll(async () => {
    await nc?.close();
    await registry?.dispose();
  });

  it('replays from a sequence, typed by subject, in order', async () => {
    const events = await take(subscribeEvents(nc, { subjects: [Subjects.serviceRegistered], from: { seq: 1 } }), 3);
    expect(events.map((e: Registered) => e.payload.service.name)).toEqual(names);
    for (const event of events) {
      expect(event.subject).toBe(Subjects.serviceRegistered);
      expect(event.payload.type).toBe('service.registered');
      expect(event.time).toBeInstanceOf(Date);
      expect(Math.abs(event.time.getTime() - Date.parse(event.payload.timestamp))).toBeLessThan(60_000);
    }
    expect(events[0]!.seq).toBeLessThan(events[1]!.seq);
    expect(events[1]!.seq).toBeLessThan(events[2]!.seq);

    // From the second one's position: the second and the third.
    const later = await take(subscribeEvents(nc, { subjects: [Subjects.serviceRegistered], from: { seq: events[1]!.seq } }), 2);
    expect(later.map((e) => e.seq)).toEqual([events[1]!.seq, events[2]!.seq]);
  });

  it('replays from a time', async () => {
    const [first] = await take(subscribeEvents(nc, { subjects: [Subjects.serviceRegistered], from: { time: betweenBAndC } }), 1);
    expect(first!.payload.service.name).toBe(names[2]);
    const [again] = await take(
      subscribeEvents(nc, { subjects: [Subjects.serviceRegistered], from: { time: betweenBAndC.toISOString() } }),
      1,
    );
    expect(again!.seq).toBe(first!.seq);
  });

  it('skips and counts a malformed message on an event subject, and keeps going', async () => {
    const skippedReasons: string[] = [];
    const subscription = subscribeEvents(nc, {
      subjects: [Subjects.serviceRegistered, Subjects.serviceDeregistered],
      from: 'new',
      onSkipped: (problem) => skippedReasons.push(problem.reason),
    });
    const js = nc.jetstream();
    const received = take(subscription, 1);
    // 'new' starts once the consumer exists: publish after it was created.
    await new Promise((done) => setTimeout(done, 1_000));
    await js.publish(Subjects.serviceRegistered, new TextEncoder().encode('{not json'));
    await js.publish(
      Subjects.serviceRegistered,
      new TextEncoder().encode(JSON.stringify({ v: 1, type: 'service.registered', service: 'nope' })),
    );
    const name = uniqueName('sdk-nats-after');
    await registry.register({ name });
    const [event] = await received;
    expect(event!.subject).toBe(Subjects.serviceRegistered);
    expect((event as Registered).payload.service.name).toBe(name);
    expect(subscription.skipped).toBe(2);
    expect(skippedReasons).toHaveLength(2);
    expect(skippedReasons[0]).toBe('not JSON');
  });

  it('follows every stream subject by default; a set across families is filtered in the client', async () => {
    const everything = await take(subscribeEvents(nc, { from: 'all' }), 3);
    expect(everything.map((e) => e.subject)).toEqual([Subjects.serviceRegistered, Subjects.serviceRegistered, Subjects.serviceRegistered]);
    const mixed = await take(subscribeEvents(nc, { subjects: [Subjects.incidentOpened, Subjects.serviceRegistered], from: 'all' }), 3);
    expect(mixed.map((e) => e.seq)).toEqual(everything.map((e) => e.seq));
    const incidentsOnly = await take(
      subscribeEvents(nc, { subjects: [Subjects.incidentOpened, Subjects.incidentResolved], from: 'all' }),
      1,
      2_000,
    );
    expect(incidentsOnly).toEqual([]);
  });

  it('close() ends a loop that is waiting for events', async () => {
    const subscription = subscribeEvents(nc, { from: 'new' });
    setTimeout(() => void subscription.close(), 1_000);
    const seen: unknown[] = [];
    for await (const event of subscription) seen.push(event);
    expect(seen).toEqual([]);
  });

  it('refuses a start that is not a position or a date', () => {
    expect(() => subscribeEvents(nc, { from: { seq: 0 } })).toThrow(/from.seq/);
    expect(() => subscribeEvents(nc, { from: { time: 'yesterday' } })).toThrow(/from.time/);
  });
});
