import type { Service } from '@beacon/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  register,
  sleep,
  startNatsServer,
  startSingleProcess,
  uniqueName,
  waitFor,
  type NatsServerHandle,
  type SingleProcess,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * restart-expiry.test.ts's requirement in single-box mode: registry-api and the reaper in
 * one process (single/dist/main.js, as `./beacon.sh start` runs them), killed with kill -9
 * past the deadlines and started again; every service whose deadline passed while it was
 * down gets its `expired` event within 1 s of the reaper being ready, exactly once.
 */

const DEADLINE_MS = 1000;
/** Slack for 2 shared cores and the 50 ms readiness poll, as in restart-expiry.test.ts. */
const SLACK_MS = 1000;
const BATCH = 20;
const TTL = 10;

let nats: NatsServerHandle;
let listener: NatsConnection;
let dataDir: string;
let registryPort: number;
let reaperPort: number;
let single: SingleProcess | null = null;
const arrivals = new Map<string, number[]>();

/** Starts both apps in one process; resolves at the reaper's first ready answer (polled every 50 ms). */
async function startSingle(): Promise<number> {
  single = await startSingleProcess({
    env: { NATS_URL: nats.url },
    apps: {
      'registry-api': { BEACON_PORT: String(registryPort), BEACON_HOST: '127.0.0.1', BEACON_SQLITE_PATH: join(dataDir, 'beacon.db') },
      // The periodic sweep would catch these up after its interval: out of the way, so
      // what is measured is what happens at start.
      'ttl-reaper': { HTTP_PORT: String(reaperPort), BEACON_TTL_CLEANUP_INTERVAL: '3600' },
    },
    readyUrls: [`http://127.0.0.1:${reaperPort}/ready`],
  });
  return Date.now();
}

async function killSingle(): Promise<void> {
  const running = single;
  single = null;
  await running?.kill();
}

beforeAll(async () => {
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), 'beacon-single-expiry-'));
  registryPort = await freePort();
  reaperPort = await freePort();
  listener = await connect({ servers: nats.url });
  listener.subscribe('beacon.events.service.expired', {
    callback: (_error, message) => {
      const { service } = JSON.parse(new TextDecoder().decode(message.data)) as { service: Service };
      arrivals.set(service.service_id, [...(arrivals.get(service.service_id) ?? []), Date.now()]);
    },
  });
  await listener.flush();
});

afterAll(async () => {
  await killSingle();
  await listener?.close();
  await nats?.dispose();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('expiry across a restart of the single process', () => {
  it('registry-api and the reaper killed together (kill -9) past the deadlines: expired events within 1 s of the reaper being ready, once', async () => {
    await startSingle();
    const base = `http://127.0.0.1:${registryPort}`;
    const batch = await Promise.all(
      Array.from({ length: BATCH }, () => register(base, { name: uniqueName('single-restart'), host: '10.3.0.2', ttl: TTL })),
    );
    await killSingle();
    const last = Math.max(...batch.map((service) => Date.parse(service.expires_at)));
    await sleep(last - Date.now() + 500);
    expect(batch.some((service) => arrivals.has(service.service_id))).toBe(false);

    const readyAt = await startSingle();
    const ids = batch.map((service) => service.service_id);
    await waitFor('every service expired', () => ids.every((id) => arrivals.has(id)), DEADLINE_MS + SLACK_MS + 5000, 20).catch(
      () => undefined, // the assertions below say which and how late
    );
    await sleep(500); // room for a duplicate to show up
    const late = ids.map((id) => (arrivals.get(id)?.[0] ?? Infinity) - readyAt);
    if (process.env.BEACON_TEST_VERBOSE) console.log(`expired events at most ${Math.max(...late)} ms after ready`);
    expect(Math.max(...late)).toBeLessThanOrEqual(DEADLINE_MS + SLACK_MS);
    for (const id of ids) expect(arrivals.get(id)).toHaveLength(1);
  }, 60_000);
});
