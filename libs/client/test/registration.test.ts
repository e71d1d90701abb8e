import { startRegistry, uniqueName, waitFor, type RegistryFixture } from '@beacon/testing';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Beacon, BeaconError, type Registration, type Service } from '../src';

/** The shortest TTL the registry accepts: heartbeats every ~3.3 s. */
const TTL = 10;

interface Recorded {
  event: 'heartbeat' | 'lost' | 'restored' | 'deleted' | 'error';
  value: unknown;
}

function record(registration: Registration): Recorded[] {
  const events: Recorded[] = [];
  for (const event of ['heartbeat', 'lost', 'restored', 'deleted', 'error'] as const)
    registration.on(event, (value: unknown) => events.push({ event, value }));
  return events;
}

const count = (events: Recorded[], event: Recorded['event']): number => events.filter((e) => e.event === event).length;

describe('register with keepAlive against real registry-api processes', () => {
  let registry: RegistryFixture | undefined;
  let registration: Registration | undefined;

  afterEach(async () => {
    await registration?.close().catch(() => undefined);
    registration = undefined;
    await registry?.dispose();
    registry = undefined;
  });

  /** Heartbeat requests the registration's client sent (real fetch, counted). */
  let heartbeatsSent = 0;

  async function start(): Promise<{ beacon: Beacon; name: string; events: Recorded[]; fixture: RegistryFixture }> {
    const fixture = await startRegistry();
    registry = fixture;
    heartbeatsSent = 0;
    const counting: typeof fetch = (input, init) => {
      if (
        init?.method === 'PUT' &&
        (typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).includes('/heartbeat')
      )
        heartbeatsSent += 1;
      return fetch(input, init);
    };
    const beacon = new Beacon({ url: fixture.api.url, timeoutMs: 2_000, fetch: counting });
    const name = uniqueName('sdk-keepalive');
    registration = await beacon.register({ name, host: '127.0.0.1', port: 7100, ttl: TTL }, { keepAlive: true });
    const events = record(registration);
    await waitFor('a first heartbeat', () => count(events, 'heartbeat') >= 1, 15_000);
    return { beacon, name, events, fixture };
  }

  async function recordsNamed(beacon: Beacon, name: string): Promise<Service[]> {
    return (await beacon.list({ name, status: undefined, limit: 100 })).services;
  }

  it('kill -9 of registry-api: lost once, restored after a restart on the same file, no duplicate, heartbeats go on', async () => {
    const { beacon, name, events, fixture } = await start();
    const reg = registration!;
    const id = reg.id;
    const port = fixture.api.port;

    await fixture.api.stop('SIGKILL');
    const sentAtKill = heartbeatsSent;
    const killedAt = Date.now();
    await waitFor('lost', () => count(events, 'lost') >= 1, 15_000);
    expect(reg.state).toBe('lost');
    const lost = events.find((e) => e.event === 'lost')?.value;
    expect(lost).toBeInstanceOf(BeaconError);
    expect((lost as BeaconError).code).toBe('network');
    // Still down through more retries (every ~3.3 s): `lost` is said once, and the registry is not hammered.
    await new Promise((done) => setTimeout(done, 4_000));
    expect(count(events, 'lost')).toBe(1);
    const cadenceMs = ((TTL * 1000) / 3) * 0.9;
    expect(heartbeatsSent - sentAtKill).toBeLessThanOrEqual(Math.ceil((Date.now() - killedAt) / cadenceMs) + 1);
    expect(heartbeatsSent - sentAtKill).toBeGreaterThanOrEqual(2);

    await fixture.restart({ BEACON_PORT: String(port) });
    await waitFor('restored', () => count(events, 'restored') >= 1, 20_000);
    expect(reg.state).toBe('alive');
    expect(reg.id).toBe(id);
    const records = await recordsNamed(beacon, name);
    expect(records.map((s) => s.service_id)).toEqual([id]);

    const beats = count(events, 'heartbeat');
    await waitFor('two more heartbeats', () => count(events, 'heartbeat') >= beats + 2, 15_000);
    expect((await beacon.get(id)).status).toBe('active');
    expect(count(events, 'lost')).toBe(1);
    expect(count(events, 'deleted')).toBe(0);
  });

  it('restart on an empty store: the heartbeat gets 404, the SDK registers again and is restored, one record', async () => {
    const { beacon, name, events, fixture } = await start();
    const reg = registration!;
    const firstId = reg.id;
    const port = fixture.api.port;

    await fixture.api.stop('SIGKILL');
    await fixture.restart({ BEACON_PORT: String(port), BEACON_SQLITE_PATH: join(fixture.dir, 'empty.db') });
    await waitFor('restored', () => count(events, 'restored') >= 1, 20_000);
    const lost = events.find((e) => e.event === 'lost')?.value as BeaconError;
    // Either the heartbeat met the restarted registry (404) or fell in the gap (network) first.
    expect(['not_found', 'network']).toContain(lost.code);
    expect(reg.state).toBe('alive');
    const records = await recordsNamed(beacon, name);
    expect(records).toHaveLength(1);
    // The record is new to this store, so it has a new id (ids are random per store), and the registration follows it.
    expect(reg.id).toBe(records[0]!.service_id);
    expect(reg.id).not.toBe(firstId);
    expect(reg.service.service_id).toBe(reg.id);
    const beats = count(events, 'heartbeat');
    await waitFor('more heartbeats', () => count(events, 'heartbeat') >= beats + 2, 15_000);
    expect(await recordsNamed(beacon, name)).toHaveLength(1);
  });

  it("an operator's DELETE: the heartbeat gets 410, the SDK emits deleted, stops, and the record stays gone", async () => {
    const { beacon, name, events } = await start();
    const reg = registration!;
    const id = reg.id;

    const operator = new Beacon({ url: registry!.api.url });
    await operator.deregister(id);
    await waitFor('deleted', () => count(events, 'deleted') >= 1 || count(events, 'restored') >= 1, 15_000);
    expect(count(events, 'restored')).toBe(0);
    expect(count(events, 'deleted')).toBe(1);
    const deleted = events.find((e) => e.event === 'deleted')?.value as BeaconError;
    expect(deleted).toMatchObject({ code: 'gone', status: 410 });
    expect(reg.state).toBe('deleted');

    // Two heartbeat periods later: no re-registration, no heartbeat.
    const beats = count(events, 'heartbeat');
    await new Promise((done) => setTimeout(done, (TTL * 1000 * 2) / 3 + 1_000));
    expect(count(events, 'heartbeat')).toBe(beats);
    expect(await recordsNamed(beacon, name)).toEqual([]);
    expect((await beacon.heartbeat(id).catch((error: unknown) => error)) as BeaconError).toMatchObject({ code: 'gone' });
    await reg.close();
    expect(reg.state).toBe('closed');
  });

  it('close() stops heartbeats and deregisters; a second close is a no-op', async () => {
    const { beacon, name, events } = await start();
    const reg = registration!;
    const id = reg.id;
    await reg.close();
    expect(reg.state).toBe('closed');
    expect(((await beacon.get(id).catch((error: unknown) => error)) as BeaconError).code).toBe('not_found');
    await reg.close();
    const beats = count(events, 'heartbeat');
    await new Promise((done) => setTimeout(done, (TTL * 1000) / 3 + 1_000));
    expect(count(events, 'heartbeat')).toBe(beats);
    expect(await recordsNamed(beacon, name)).toEqual([]);
  });

  it('without keepAlive nothing heartbeats; close() still deregisters', async () => {
    const fixture = await startRegistry();
    registry = fixture;
    const beacon = new Beacon({ url: fixture.api.url });
    const reg = await beacon.register({ name: uniqueName('sdk-once'), host: '127.0.0.1', port: 7101, ttl: TTL });
    registration = reg;
    const events = record(reg);
    await new Promise((done) => setTimeout(done, (TTL * 1000) / 3 + 1_000));
    expect(events).toEqual([]);
    await reg.close();
    expect(((await beacon.get(reg.id).catch((error: unknown) => error)) as BeaconError).code).toBe('not_found');
  });
});
