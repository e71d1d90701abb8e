import { EVENTS_STREAM } from '@beacon/contracts';
import { startRegistry, waitFor, type RegistryFixture } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeEvents } from '../src/nats';

describe('subscribeEvents when the connection goes away (real nats-server)', () => {
  let registry: RegistryFixture;

  beforeAll(async () => {
    registry = await startRegistry();
    const nc = await connect({ servers: registry.nats.url });
    const jsm = await nc.jetstreamManager();
    await waitFor('the events stream', async () => (await jsm.streams.info(EVENTS_STREAM).catch(() => undefined)) !== undefined);
    await nc.close();
  });
  afterAll(async () => {
    await registry?.dispose();
  });

  for (const how of ['close', 'drain'] as const) {
    it(`a for await loop ends when the program ${how}s its NATS connection`, async () => {
      const nc: NatsConnection = await connect({ servers: registry.nats.url });
      const subscription = subscribeEvents(nc, { from: 'all' });
      let ended = false;
      const loop = (async () => {
        for await (const event of subscription) void event;
        ended = true;
      })();
      await new Promise((done) => setTimeout(done, 1_000));
      await (how === 'close' ? nc.close() : nc.drain());
      await waitFor('the loop to end', () => ended, 20_000).catch(() => undefined);
      expect(ended).toBe(true);
      await subscription.close();
      await loop.catch(() => undefined);
    }, 40_000);
  }
});
