import type { Database } from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../../catalog/registration';
import { CatalogFullError } from '../service-store';
import { SqliteStore, StoreInUseError } from './sqlite-store';

let dir: string;
let store: SqliteStore;

const register = (name: string, port: number) =>
  store.register({ name, host: '10.0.0.1', port }, (existing) =>
    draftRegistration({ name, host: '10.0.0.1', port }, existing, Date.now(), BUILT_IN_DEFAULTS),
  );

/** The store's connection, to make SQLite refuse writes the way a full disk would. */
const connection = (target: SqliteStore): Database => (target as unknown as { db: Database }).db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beacon-sqlite-'));
  store = new SqliteStore({ path: join(dir, 'beacon.db'), synchronous: 'normal' });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore group commit', () => {
  it('commits changes made together in one transaction, each caller waiting for it', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, index) => register(`svc-${index}`, index + 1)));
    expect(new Set(outcomes.map((outcome) => outcome.record.revision)).size).toBe(20);
    await store.close();
    store = new SqliteStore({ path: join(dir, 'beacon.db'), synchronous: 'normal' });
    expect((await store.list({}, { limit: 50, skip: 0 }, Date.now())).total).toBe(20);
  });

  it('rejects every change of a failed commit and keeps memory equal to disk', async () => {
    const kept = await register('kept', 1);
    connection(store).pragma('query_only = ON');
    const failed = await Promise.allSettled([register('lost-a', 2), register('lost-b', 3)]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    const { records } = await store.list({}, { limit: 50, skip: 0 }, Date.now());
    expect(records.map((record) => record.name)).toEqual(['kept']);
    connection(store).pragma('query_only = OFF');
    const next = await register('after', 4);
    expect(next.record.revision).toBe(kept.record.revision + 1);
  });
});

describe('SqliteStore ownership', () => {
  it('refuses to open a file another store holds, with a message saying what to do', () => {
    expect(() => new SqliteStore({ path: join(dir, 'beacon.db'), synchronous: 'normal', lockTimeoutMs: 100 })).toThrow(StoreInUseError);
    expect(() => new SqliteStore({ path: join(dir, 'beacon.db'), synchronous: 'normal', lockTimeoutMs: 100 })).toThrow(
      /BEACON_SQLITE_PATH/,
    );
  });
});

describe('SqliteStore catalog limit (BEACON_MAX_SERVICES)', () => {
  it('refuses a new record at the limit, still takes re-registrations, and has room again after a removal', async () => {
    await store.close();
    store = new SqliteStore({ path: join(dir, 'capped.db'), synchronous: 'normal', maxServices: 2 });
    const first = await register('a', 1);
    await register('b', 2);
    await expect(register('c', 3)).rejects.toThrow(CatalogFullError);
    expect((await store.list({}, { limit: 50, skip: 0 }, Date.now())).total).toBe(2);
    const again = await register('a', 1);
    expect(again.record.service_id).toBe(first.record.service_id);
    await store.remove(first.record.service_id);
    expect((await register('c', 3)).previous).toBeNull();
  });
});
