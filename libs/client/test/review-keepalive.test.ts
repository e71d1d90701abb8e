import { startRegistry, uniqueName, waitFor, type RegistryFixture } from '@beacon/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Beacon, BeaconError, type Registration } from '../src';

/** The shortest TTL the registry accepts: heartbeats every ~3.3 s. */
const TTL = 10;

const urlOf = (input: Parameters<typeof fetch>[0]): string =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

describe('keepAlive under attack, against a real registry-api', () => {
  let registry: RegistryFixture | undefined;
  let registration: Registration | undefined;
  let paused = false;

  afterEach(async () => {
    if (paused && registry) registry.api.child.kill('SIGCONT');
    paused = false;
    await registration?.close().catch(() => undefined);
    registration = undefined;
    await registry?.dispose();
    registry = undefined;
  });

  it("follows the record's TTL when an operator lowers it: the record never lapses between heartbeats", async () => {
    registry = await startRegistry();
    const beacon = new Beacon({ url: registry.api.url });
    const name = uniqueName('sdk-review-ttl');
    registration = await beacon.register({ name, host: '127.0.0.1', port: 7200, ttl: 60 }, { keepAlive: true });
    const id = registration.id;
    let lost = 0;
    registration.on('lost', () => (lost += 1));
    await beacon.update(id, { ttl: TTL });
    // The cadence was ttl 60 / 3 = 20 s: the record, renewed for 10 s at a time from the first
    // heartbeat after the update (~20 s), lapsed between that beat and the next.
    const until = Date.now() + 45_000;
    const lapses: string[] = [];
    while (Date.now() < until) {
      const record = await beacon.get(id);
      if (Date.parse(record.expires_at) < Date.now()) lapses.push(`expires_at ${record.expires_at} passed at ${new Date().toISOString()}`);
      expect(record.ttl).toBe(TTL);
      await new Promise((done) => setTimeout(done, 1_000));
    }
    expect(lapses).toEqual([]);
    expect(lost).toBe(0);
  }, 90_000);

  it("a heartbeat refused 401 (the registry's token rotated) is a failed heartbeat: lost once, restored when the token works again", async () => {
    const fixture = await startRegistry({ env: { BEACON_AUTH_TOKEN: 'token-before-rotation' } });
    registry = fixture;
    const beacon = new Beacon({ url: fixture.api.url, token: 'token-before-rotation' });
    registration = await beacon.register(
      { name: uniqueName('sdk-review-401'), host: '127.0.0.1', port: 7202, ttl: TTL },
      { keepAlive: true },
    );
    const reg = registration;
    const lost: BeaconError[] = [];
    const errors: unknown[] = [];
    let restored = 0;
    let beats = 0;
    reg.on('lost', (error) => lost.push(error));
    reg.on('error', (error) => errors.push(error));
    reg.on('restored', () => (restored += 1));
    reg.on('heartbeat', () => (beats += 1));
    await waitFor('a first heartbeat', () => beats >= 1, 15_000);

    const port = String(fixture.api.port);
    await fixture.api.stop();
    await fixture.restart({ BEACON_PORT: port, BEACON_AUTH_TOKEN: 'token-after-rotation' });
    await waitFor('two refused heartbeats', () => errors.length >= 2 || lost.length >= 2, 30_000);
    // The record is no longer renewed: the registration must not say it is alive.
    expect(reg.state).toBe('lost');
    expect(lost).toHaveLength(1);
    // (A heartbeat may have fallen in the restart's gap first.)
    expect(['unauthorized', 'network']).toContain(lost[0]!.code);
    expect(errors.some((error) => error instanceof BeaconError && error.code === 'unauthorized')).toBe(true);

    await fixture.api.stop();
    await fixture.restart({ BEACON_PORT: port, BEACON_AUTH_TOKEN: 'token-before-rotation' });
    await waitFor('restored', () => restored >= 1, 30_000);
    expect(reg.state).toBe('alive');
    expect(lost).toHaveLength(1);
  }, 120_000);

  it('SIGSTOP of registry-api: each heartbeat is abandoned within the cadence, one in flight, lost once, restored once after SIGCONT', async () => {
    const fixture = await startRegistry();
    registry = fixture;
    let inflight = 0;
    let maxInflight = 0;
    let sent = 0;
    const counting: typeof fetch = async (input, init) => {
      const beat = init?.method === 'PUT' && urlOf(input).includes('/heartbeat');
      if (!beat) return fetch(input, init);
      sent += 1;
      inflight += 1;
      maxInflight = Math.max(maxInflight, inflight);
      try {
        return await fetch(input, init);
      } finally {
        inflight -= 1;
      }
    };
    // The default per-request timeout (10 s) is longer than the cadence (~3.3 s).
    const beacon = new Beacon({ url: fixture.api.url, fetch: counting });
    const name = uniqueName('sdk-review-stop');
    registration = await beacon.register({ name, host: '127.0.0.1', port: 7201, ttl: TTL }, { keepAlive: true });
    const reg = registration;
    const lost: BeaconError[] = [];
    let restored = 0;
    reg.on('lost', (error) => lost.push(error));
    reg.on('restored', () => (restored += 1));
    await waitFor('a first heartbeat', () => sent >= 1 && inflight === 0, 15_000);

    fixture.api.child.kill('SIGSTOP');
    paused = true;
    await waitFor('lost', () => lost.length >= 1, 30_000);
    await waitFor('two more heartbeats tried while paused', () => sent >= 4, 30_000);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.code).toBe('network');
    // The request was given up within the heartbeat cadence, not the 10 s default.
    const timeout = Number(/did not answer within (\d+) ms/.exec(lost[0]!.detail)?.[1]);
    expect(timeout).toBeLessThanOrEqual(((TTL * 1000) / 3) * 1.1);

    fixture.api.child.kill('SIGCONT');
    paused = false;
    await waitFor('restored', () => restored >= 1, 30_000);
    await new Promise((done) => setTimeout(done, 4_000));
    expect(restored).toBe(1);
    expect(lost).toHaveLength(1);
    expect(reg.state).toBe('alive');
    expect(maxInflight).toBe(1);
    const records = (await beacon.list({ name, limit: 100 })).services;
    expect(records.map((s) => s.service_id)).toEqual([reg.id]);
  }, 120_000);
});
