import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tombstoneOf } from '../src/catalog/catalog.service';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../src/catalog/registration';
import { MongoStore } from '../src/store/mongo/mongo-store';
import type { ServiceStore } from '../src/store/service-store';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';

/**
 * Tombstones at the store level, the same on both adapters (the review found the MongoDB
 * adapter translating SQLite's semantics wrongly in these three places). The MongoDB leg runs
 * wherever BEACON_MONGODB_URL reaches a server, in a database of its own that it drops.
 */
interface Adapter {
  name: string;
  skip: string | false;
  open(): Promise<ServiceStore>;
  cleanup(): Promise<void>;
}

const tempDir = mkdtempSync(join(tmpdir(), 'beacon-tombstone-review-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const mongoUrl = process.env.BEACON_MONGODB_URL;
let mongoDatabaseUrl = '';

const adapters: Adapter[] = [
  {
    name: 'sqlite',
    skip: false,
    open: async () => new SqliteStore({ path: join(tempDir, `${randomUUID()}.db`), synchronous: 'normal' }),
    async cleanup() {},
  },
  {
    name: 'mongodb',
    skip: mongoUrl ? false : 'BEACON_MONGODB_URL is not set: no MongoDB server to run the Mongo leg against',
    async open() {
      const parsed = new URL(mongoUrl ?? '');
      parsed.pathname = `/beacon_tombstone_review_${randomUUID().slice(0, 8)}`;
      mongoDatabaseUrl = parsed.toString();
      return MongoStore.connect(mongoDatabaseUrl);
    },
    async cleanup() {
      const mongoose = await import('mongoose');
      const connection = await mongoose.default.createConnection(mongoDatabaseUrl).asPromise();
      await connection.dropDatabase();
      await connection.close();
    },
  },
];

const NOW = Date.now();
const TTL = 3600;

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== false)(
    `tombstones in the ${adapter.name} store${adapter.skip ? ` (skipped: ${adapter.skip})` : ''}`,
    () => {
      let store: ServiceStore;
      beforeEach(async () => {
        store = await adapter.open();
      });
      afterEach(async () => {
        await store.close();
        await adapter.cleanup();
      });

      const register = (name: string, port: number, instanceId?: string) =>
        store.register({ name, host: '10.80.0.1', port, instance_id: instanceId }, (existing) =>
          draftRegistration({ name, host: '10.80.0.1', port, instance_id: instanceId, ttl: 300 }, existing, NOW, BUILT_IN_DEFAULTS),
        );
      const deleteWithTombstone = (id: string, at = NOW) => store.remove(id, undefined, (record) => tombstoneOf(record, 'delete', at, TTL));

      it('two operator deletes of one service at once (two replicas, a retry) leave its tombstone', async () => {
        const { record } = await register('double-delete', 1);
        const [first, second] = await Promise.all([deleteWithTombstone(record.service_id), deleteWithTombstone(record.service_id)]);
        expect([first, second].filter((removed) => removed !== null)).toHaveLength(1);
        expect((await store.tombstone(record.service_id, NOW))?.service_id).toBe(record.service_id);
      });

      it('a merge import drops a tombstone whose id is a stored record (the record outranks it); the record purged later leaves none', async () => {
        const { record } = await register('stored', 2);
        const stale = { ...tombstoneOf(record, 'delete', NOW, TTL), name: 'elsewhere', port: 9 };
        await store.importCatalog({ revision: 1, records: [], checks: new Map(), tombstones: [stale] }, true);
        expect(await store.tombstone(record.service_id, NOW)).toBeNull();
        // The reaper's purge is no operator's delete: afterwards the id is unknown (404), not gone (410).
        await store.remove(record.service_id);
        expect(await store.tombstone(record.service_id, NOW)).toBeNull();
      });

      it("answers the newest deletion of an instance when several tombstones hold it (seed 004's heartbeat)", async () => {
        const older = (await register('inst', 3, 'i-1')).record;
        await deleteWithTombstone(older.service_id, NOW - 2000);
        // The same instance at another port, from an import: a second tombstone of (inst, i-1).
        const newer = { ...tombstoneOf({ ...older, service_id: randomUUID(), port: 4 }, 'unregister', NOW - 1000, TTL) };
        await store.importCatalog({ revision: 1, records: [], checks: new Map(), tombstones: [newer] }, true);
        expect((await store.instanceTombstone('inst', 'i-1', NOW))?.service_id).toBe(newer.service_id);
      });
    },
  );
}
