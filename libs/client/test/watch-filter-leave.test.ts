import type { Service } from '@beacon/contracts';
import { fetchJson, startApp, startRegistry, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Beacon } from '../src/beacon';
import type { Watch, WatchChange } from '../src/watch';

/**
 * A watch with a tags filter loses a service whose tags leave it, and gets it back when
 * they return: real nats-server, registry-api and realtime-gateway, changes over REST.
 */
let registry: RegistryFixture;
let gateway: AppProcess;
const watches: Watch[] = [];

beforeAll(async () => {
  registry = await startRegistry({ env: { BEACON_REGISTRATIONS_PER_SECOND: '0' } });
  gateway = await startApp('realtime-gateway', { env: { NATS_URL: registry.nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' });
});

afterAll(async () => {
  await Promise.all(watches.map((watch) => watch.close()));
  await gateway?.stop();
  await registry?.dispose();
});

const put = async (service: Service, patch: Record<string, unknown>): Promise<void> => {
  expect((await fetchJson('PUT', `${registry.base}/services/${service.service_id}`, patch)).status).toBe(200);
};
/** Every instance pick() returns over `times` calls, round-robin so each held one comes up. */
const picked = (watch: Watch, times: number): Set<string | undefined> =>
  new Set(Array.from({ length: times }, () => watch.pick('round-robin')?.service_id));

describe('watch({ tags }) and a service that leaves the filter', () => {
  it('drops it from the cache and pick(), and takes it back when it matches again', async () => {
    const leaving = await registry.register({ host: '10.8.0.1', tags: ['blue', 'eu'], ttl: 3600 });
    const staying = await registry.register({ host: '10.8.0.2', tags: ['blue'], ttl: 3600 });
    const never = await registry.register({ host: '10.8.0.3', tags: ['green'], ttl: 3600 });
    const watch = new Beacon({ url: registry.api.url }).watch({ tags: ['blue'] }, { url: gateway.url });
    watches.push(watch);
    const changes: WatchChange[] = [];
    watch.onChange((change) => changes.push(change));
    await watch.ready;
    expect(picked(watch, 10)).toEqual(new Set([leaving.service_id, staying.service_id]));

    await put(leaving, { tags: ['green'] });
    await waitFor('the watch to drop the service', () => (watch.get(leaving.service_id) ? undefined : true), 10_000);
    expect(changes).toContainEqual({ kind: 'remove', service_id: leaving.service_id, event: 'service_updated' });
    // Changes out of the filter and to a service never in it: nothing comes, so mark the end with one that is in it.
    await put(leaving, { version: '2.0' });
    await put(never, { tags: ['green', 'red'] });
    await put(staying, { version: '2.0' });
    await waitFor('the marker change', () => (watch.get(staying.service_id)?.version === '2.0' ? true : undefined), 10_000);
    expect(watch.get(leaving.service_id)).toBeUndefined();
    expect(watch.get(never.service_id)).toBeUndefined();
    expect(picked(watch, 10)).toEqual(new Set([staying.service_id]));

    await put(leaving, { tags: ['eu', 'blue'] });
    await waitFor('the service back', () => watch.get(leaving.service_id), 10_000);
    expect(watch.get(leaving.service_id)).toMatchObject({ tags: ['eu', 'blue'], version: '2.0' });
    expect(changes.at(-1)).toMatchObject({ kind: 'upsert', event: 'service_updated', service: { service_id: leaving.service_id } });
    expect(picked(watch, 10)).toEqual(new Set([leaving.service_id, staying.service_id]));
  }, 60_000);

  it('reads its filter lists as the gateway does (comma-separated, trimmed, empty items dropped)', async () => {
    const kept = await registry.register({ host: '10.8.0.4', tags: ['navy', 'eu'], ttl: 3600 });
    const watch = new Beacon({ url: registry.api.url }).watch({ tags: [' navy ', 'eu,', ''] }, { url: gateway.url });
    watches.push(watch);
    await watch.ready;
    expect(watch.services().map((s) => s.service_id)).toEqual([kept.service_id]);
    // A change the gateway sends as matching stays: the watch does not drop what the gateway keeps.
    await put(kept, { version: '3.0' });
    await waitFor('the change', () => (watch.get(kept.service_id)?.version === '3.0' ? true : undefined), 10_000);
  }, 60_000);

  it('refuses an empty type or name at once instead of retrying a connection the gateway refuses', () => {
    const beacon = new Beacon({ url: registry.api.url });
    expect(() => beacon.watch({ type: '' }, { url: gateway.url })).toThrow(/filter\.type must be a non-empty string/);
    expect(() => beacon.watch({ name: '' }, { url: gateway.url })).toThrow(/filter\.name must be a non-empty string/);
  });
});
