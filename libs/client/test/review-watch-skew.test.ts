import { startApp, startRegistry, uniqueName, type AppProcess, type RegistryFixture } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Beacon } from '../src';

/**
 * pick() judges `expires_at` (the registry's clock) by the local clock. A client whose clock
 * runs ahead by more than the TTL (a device without NTP, a browser on a badly set laptop) sees
 * every live instance as expired: pick() returns nothing at all, although the watch holds
 * active, renewed records. So the watch keeps the gateway's clock offset, from the `timestamp`
 * of the greeting, the snapshot and each pong, and judges by `Date.now() + offset`.
 */
describe('pick() with a client clock ahead of the registry', () => {
  let registry: RegistryFixture;
  let gateway: AppProcess;

  beforeAll(async () => {
    registry = await startRegistry();
    gateway = await startApp('realtime-gateway', { env: { NATS_URL: registry.nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' });
  }, 60_000);
  afterAll(async () => {
    vi.useRealTimers();
    await gateway?.stop();
    await registry?.dispose();
  });

  it('still picks a live instance when the local clock is 60 s fast and the TTL is 30 s', async () => {
    const type = uniqueName('skew');
    const service = await registry.register({ type, ttl: 30 });
    // A device whose clock is a minute fast from the start.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_000);
    const watch = new Beacon({ url: gateway.url }).watch({ type });
    try {
      await watch.ready;
      // The record is active and 30 s from expiring by the registry's clock.
      expect(watch.get(service.service_id)?.status).toBe('active');
      expect(Date.parse(watch.get(service.service_id)?.expires_at ?? '')).toBeLessThan(Date.now());
      expect(watch.pick()?.service_id).toBe(service.service_id);
    } finally {
      vi.useRealTimers();
      await watch.close();
    }
  }, 60_000);
});
