import { EVENTS_STREAM } from '@beacon/contracts';
import { startRegistry, waitFor, type RegistryFixture } from '@beacon/testing';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeEvents } from '../src/nats';

describe('subscribeEvents: close() at any moment leaves nothing behind (real nats-server)', () => {
  let registry: RegistryFixture;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  const consumers = async (): Promise<number> => (await jsm.streams.info(EVENTS_STREAM)).state.consumer_count;

  beforeAll(async () => {
    registry = await startRegistry();
    nc = await connect({ servers: registry.nats.url });
    jsm = await nc.jetstreamManager();
    await waitFor('the events stream', async () => (await jsm.streams.info(EVENTS_STREAM).catch(() => undefined)) !== undefined);
  });
  afterAll(async () => {
    await nc?.close();
    await registry?.dispose();
  });

  it('close() right after the loop starts (before or while the consumer opens): the loop ends and no consumer is left running', async () => {
    const before = await consumers();
    // At once (while the consumer is looked up), then a little later (while consume() waits for
    // the server, or once it runs): whichever moment close() hits, the loop ends.
    for (const delayMs of [0, 0, 0, 1, 2, 5, 10, 20, 50, 100]) {
      const subscription = subscribeEvents(nc, { from: 'new' });
      const loop = (async () => {
        const seen: unknown[] = [];
        for await (const event of subscription) seen.push(event);
        return seen;
      })();
      if (delayMs > 0) await new Promise((done) => setTimeout(done, delayMs));
      await subscription.close();
      expect(await loop).toEqual([]);
    }
    // A closed ordered consumer's server-side consumer goes after its inactivity threshold; one
    // left consuming keeps it (and its pull loop) alive for good.
    await waitFor('the consumers to be gone', async () => (await consumers()) === before, 30_000).catch(() => undefined);
    expect(await consumers()).toBe(before);
  }, 60_000);

  it("replays from a time before the stream's first message (the epoch, a year ago): the same as from 'all'", async () => {
    await registry.register({ name: 'sdk-review-nats-replay' });
    await waitFor('an event stored', async () => (await jsm.streams.info(EVENTS_STREAM)).state.messages > 0);
    const first = async (from: Parameters<typeof subscribeEvents>[1]): Promise<number | undefined> => {
      const subscription = subscribeEvents(nc, from);
      const giveUp = setTimeout(() => void subscription.close(), 15_000);
      try {
        for await (const event of subscription) return event.seq;
        return undefined;
      } finally {
        clearTimeout(giveUp);
        await subscription.close();
      }
    };
    const fromAll = await first({ from: 'all' });
    expect(fromAll).toBeGreaterThanOrEqual(1);
    expect(await first({ from: { time: new Date(0) } })).toBe(fromAll);
    expect(await first({ from: { time: new Date(Date.now() - 365 * 86_400_000).toISOString() } })).toBe(fromAll);
  }, 60_000);
});
