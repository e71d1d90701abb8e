import type { HealthCheckEntry } from '@beacon/contracts';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../../catalog/registration';
import { summarize } from '../../uptime/uptime-math';
import { SqliteStore } from './sqlite-store';

const NOW = Date.UTC(2030, 0, 1);
let dir: string;
let path: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beacon-uptime-'));
  path = join(dir, 'beacon.db');
  store = new SqliteStore({ path, synchronous: 'normal', pingsPerService: 120 });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const entry = (at: number, ok: boolean, ms: number): HealthCheckEntry => ({
  checked_at: new Date(at).toISOString(),
  kind: 'http',
  health: ok ? 'healthy' : 'unhealthy',
  outcome: ok ? 'healthy' : 'error',
  status_code: ok ? 200 : 500,
  response_time_ms: ms,
  load: null,
  error: ok ? null : 'boom',
});

async function service(): Promise<string> {
  const { record } = await store.register({ name: 'svc', host: '10.0.0.1', port: 80 }, (existing) =>
    draftRegistration({ name: 'svc', host: '10.0.0.1', port: 80, health_check_url: 'http://10.0.0.1/h' }, existing, NOW, BUILT_IN_DEFAULTS),
  );
  return record.service_id;
}

describe('SQLite uptime store', () => {
  it('keeps the newest pingsPerService results, reads a window back, and stores windows with the mark in one step', async () => {
    const id = await service();
    for (let index = 0; index < 150; index += 1) await store.appendHealthCheck(id, entry(NOW + index * 1000, index % 10 !== 0, index));
    const { total } = await store.healthChecks(id, 1000, 0);
    expect(total).toBe(120);
    const points = await store.uptime.checksBetween(NOW + 60_000, NOW + 120_000);
    expect(points).toHaveLength(60);
    const windows = summarize(points, NOW + 60_000);
    expect(windows[0]).toMatchObject({ checks: 60, failures: 6 });
    await store.uptime.saveWindows(windows, NOW + 120_000);
    await store.uptime.saveWindows(windows, NOW + 120_000); // again, as after a crash before the mark was read: replaced, not added
    expect(await store.uptime.aggregatedUntil()).toBe(NOW + 120_000);
    const stored = await store.uptime.windows(id, NOW, NOW + 180_000);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ start: NOW + 60_000, checks: 60, failures: 6, availability: 0.9 });
    expect((await store.uptime.totals(NOW, NOW + 180_000)).get(id)).toEqual({ checks: 60, failures: 6, availabilitySum: 0.9, known: 1 });
  });

  it('trims windows and pings past retention, and removes a service history with it', async () => {
    const id = await service();
    for (let index = 0; index < 10; index += 1) await store.appendHealthCheck(id, entry(NOW + index * 1000, true, 1));
    await store.uptime.saveWindows(summarize(await store.uptime.checksBetween(NOW, NOW + 300_000), NOW), NOW + 300_000);
    expect(await store.uptime.trim(NOW + 1, NOW + 5000, 1000)).toBe(1 + 5);
    expect((await store.healthChecks(id, 100, 0)).total).toBe(5);
    await store.uptime.saveWindows(
      [{ service_id: id, start: NOW + 300_000, checks: 1, failures: 0, availability: 1, latency: null }],
      NOW + 600_000,
    );
    await store.remove(id);
    expect(await store.uptime.windowsSince(0)).toEqual([]);
    expect((await store.healthChecks(id, 100, 0)).total).toBe(0);
  });

  it('continues each ring where it stopped after a restart, overwriting the oldest result', async () => {
    const id = await service();
    for (let index = 0; index < 130; index += 1) await store.appendHealthCheck(id, entry(NOW + index * 1000, true, index));
    await store.close();
    store = new SqliteStore({ path, synchronous: 'normal', pingsPerService: 120 });
    await store.appendHealthCheck(id, entry(NOW + 130_000, false, 130));
    const { checks, total } = await store.healthChecks(id, 1000, 0);
    expect(total).toBe(120);
    expect(checks.map((check) => check.response_time_ms)).toEqual(Array.from({ length: 120 }, (_, index) => 130 - index));
    expect(checks[0]).toEqual(entry(NOW + 130_000, false, 130));
  });

  it('keeps results in the order they were stored, and a restart goes on after the last one stored, whatever its time', async () => {
    const id = await service();
    // One of the last results is stamped an hour ahead (a prober with a wrong clock).
    for (let index = 0; index < 130; index += 1) {
      await store.appendHealthCheck(id, entry(NOW + index * 1000 + (index === 125 ? 3_600_000 : 0), true, index));
    }
    await store.close();
    store = new SqliteStore({ path, synchronous: 'normal', pingsPerService: 120 });
    await store.appendHealthCheck(id, entry(NOW + 130_000, true, 130));
    const { checks } = await store.healthChecks(id, 1000, 0);
    expect(checks.map((check) => check.response_time_ms)).toEqual(Array.from({ length: 120 }, (_, index) => 130 - index));
  });

  it("moves a version 5 file's check history (JSON documents by service id) into the rings at open", async () => {
    const id = await service();
    await store.close();
    const db = new Database(path);
    db.exec(`DROP TABLE pings; UPDATE meta SET value = 5 WHERE key = 'schema_version';
      CREATE TABLE health_checks (service_id TEXT NOT NULL, slot INTEGER NOT NULL, seq INTEGER NOT NULL, checked_at INTEGER NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (service_id, slot)) WITHOUT ROWID;`);
    const insert = db.prepare('INSERT OR REPLACE INTO health_checks (service_id, slot, seq, checked_at, doc) VALUES (?, ?, ?, ?, ?)');
    // The old ring held 200 slots: its newest 120 are kept, in order.
    for (let seq = 0; seq < 250; seq += 1)
      insert.run(id, seq % 200, seq, NOW + seq * 1000, JSON.stringify(entry(NOW + seq * 1000, seq % 2 === 0, seq)));
    insert.run('gone-service', 0, 0, NOW, JSON.stringify(entry(NOW, true, 1)));
    db.close();
    store = new SqliteStore({ path, synchronous: 'normal', pingsPerService: 120 });
    const { checks, total } = await store.healthChecks(id, 1000, 0);
    expect(total).toBe(120);
    expect(await store.uptime.checksBetween(0, NOW * 2)).toHaveLength(120); // nothing kept of a service no longer registered
    expect(checks).toEqual(
      Array.from({ length: 120 }, (_, index) => entry(NOW + (249 - index) * 1000, (249 - index) % 2 === 0, 249 - index)),
    );
    expect(await store.uptime.checksBetween(NOW + 245_000, NOW + 250_000)).toHaveLength(5);
    await store.appendHealthCheck(id, entry(NOW + 250_000, true, 250));
    expect((await store.healthChecks(id, 1, 0)).checks[0]?.response_time_ms).toBe(250);
    expect((await store.healthChecks(id, 1000, 0)).total).toBe(120);
    await store.close();
    const after = new Database(path);
    expect(after.prepare(`SELECT name FROM sqlite_master WHERE name = 'health_checks'`).get()).toBeUndefined();
    expect(after.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get()).toBe(8);
    after.close();
    store = new SqliteStore({ path, synchronous: 'normal', pingsPerService: 120 });
  });

  it('drops the windows table of the unreleased version 6 and aggregates again from the pings', async () => {
    const id = await service();
    await store.uptime.saveWindows(
      [{ service_id: id, start: NOW, checks: 2, failures: 1, availability: 0.5, latency: null }],
      NOW + 300_000,
    );
    await store.close();
    const db = new Database(path);
    db.exec(`UPDATE meta SET value = 6 WHERE key = 'schema_version';
      CREATE TABLE uptime (sid INTEGER NOT NULL, start INTEGER NOT NULL, checks INTEGER NOT NULL, failures INTEGER NOT NULL,
        up INTEGER, p50 INTEGER, p95 INTEGER, p99 INTEGER, max INTEGER, PRIMARY KEY (sid, start)) WITHOUT ROWID;`);
    db.close();
    store = new SqliteStore({ path, synchronous: 'normal', pingsPerService: 120 });
    expect(await store.uptime.aggregatedUntil()).toBe(0);
    expect(await store.uptime.windows(id, NOW, NOW + 300_000)).toHaveLength(1); // blocks kept
    await store.close();
    const after = new Database(path);
    expect(after.prepare(`SELECT name FROM sqlite_master WHERE name = 'uptime'`).get()).toBeUndefined();
    after.close();
    store = new SqliteStore({ path, synchronous: 'normal', pingsPerService: 120 });
    expect(await store.uptime.aggregatedUntil()).toBe(0);
  });
});
