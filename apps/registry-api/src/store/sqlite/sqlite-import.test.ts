import type { Database } from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../../catalog/registration';
import type { ServiceRecord } from '../../catalog/service-record';
import { CatalogFullError, IdentityConflictError, StoreNotEmptyError, type CatalogImport } from '../service-store';
import { SqliteStore } from './sqlite-store';

let dir: string;
let path: string;
let store: SqliteStore;

const NOW = Date.now();
const recordOf = (name: string, port: number, revision: number): ServiceRecord => ({
  ...draftRegistration({ name, host: '10.0.0.1', port }, null, NOW, BUILT_IN_DEFAULTS),
  revision,
});
const entry = {
  checked_at: new Date(NOW).toISOString(),
  kind: 'tcp',
  health: 'healthy',
  outcome: 'healthy',
  status_code: null,
  response_time_ms: 1,
  load: null,
  error: null,
} as const;

const a = recordOf('a', 1, 3);
const b = recordOf('b', 2, 8);
const file: CatalogImport = { revision: 9, records: [a, b], checks: new Map([[a.service_id, [entry]]]) };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beacon-sqlite-import-'));
  path = join(dir, 'beacon.db');
  store = new SqliteStore({ path, synchronous: 'normal' });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore.importCatalog', () => {
  it('loads records, histories and the revision durably, and numbers later writes above them', async () => {
    expect(await store.importCatalog(file, false)).toEqual({ created: 2, replaced: 0, revision: 9 });
    await store.close();
    store = new SqliteStore({ path, synchronous: 'normal' });
    expect(await store.get(a.service_id)).toEqual(a);
    expect((await store.healthChecks(a.service_id, 10, 0)).checks).toEqual([entry]);
    expect((await store.stats(Date.now())).revision).toBe(9);
    const next = await store.register({ name: 'c', host: '10.0.0.1', port: 3 }, (existing) =>
      draftRegistration({ name: 'c', host: '10.0.0.1', port: 3 }, existing, Date.now(), BUILT_IN_DEFAULTS),
    );
    expect(next.record.revision).toBe(10);
  });

  it('refuses a non-empty store without merge, an identity held by a record outside the file, and a full catalog', async () => {
    await store.importCatalog({ ...file, records: [a] }, false);
    await expect(store.importCatalog(file, false)).rejects.toBeInstanceOf(StoreNotEmptyError);
    const squatter = { ...recordOf('b', 2, 1) };
    await expect(store.importCatalog({ ...file, records: [squatter] }, true)).resolves.toMatchObject({ created: 1 });
    await expect(store.importCatalog(file, true)).rejects.toBeInstanceOf(IdentityConflictError);
    const small = new SqliteStore({ path: join(dir, 'small.db'), synchronous: 'normal', maxServices: 1 });
    await expect(small.importCatalog(file, false)).rejects.toBeInstanceOf(CatalogFullError);
    await small.close();
  });

  it('changes nothing, in memory or on disk, when the transaction fails', async () => {
    const db = (store as unknown as { db: Database }).db;
    db.pragma('query_only = ON');
    await expect(store.importCatalog(file, false)).rejects.toThrow();
    db.pragma('query_only = OFF');
    expect(store.cachedRecords).toBe(0);
    expect((await store.stats(Date.now())).revision).toBe(0);
    expect(await store.importCatalog(file, false)).toMatchObject({ created: 2 });
  });
});
