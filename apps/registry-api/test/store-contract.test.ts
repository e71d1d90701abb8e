import { HEALTH_HISTORY, type RegisterServiceDto } from '@beacon/contracts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../src/catalog/registration';
import type { ServiceRecord } from '../src/catalog/service-record';
import { MongoStore } from '../src/store/mongo/mongo-store';
import { IdentityConflictError, type ServiceStore } from '../src/store/service-store';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';

/**
 * One suite, every adapter: the catalog must behave the same on the embedded store and on
 * MongoDB. The Mongo leg runs wherever BEACON_MONGODB_URL reaches a server, each run in a
 * database of its own that it drops afterwards.
 */
interface Adapter {
  name: string;
  skip: string | false;
  open(): Promise<ServiceStore>;
  /** Opens the same data again (a restart). */
  reopen(): Promise<ServiceStore>;
  cleanup(): Promise<void>;
}

const tempDir = mkdtempSync(join(tmpdir(), 'beacon-store-contract-'));
let sqliteFile = '';

const sqlite: Adapter = {
  name: 'sqlite',
  skip: false,
  async open() {
    sqliteFile = join(tempDir, `${randomUUID()}.db`);
    return new SqliteStore({ path: sqliteFile, synchronous: 'normal' });
  },
  async reopen() {
    return new SqliteStore({ path: sqliteFile, synchronous: 'normal' });
  },
  async cleanup() {},
};

const mongoUrl = process.env.BEACON_MONGODB_URL;
let mongoDatabaseUrl = '';

/** The same server, a database named for this run. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

const mongo: Adapter = {
  name: 'mongodb',
  skip: mongoUrl ? false : 'BEACON_MONGODB_URL is not set: no MongoDB server to run the Mongo leg against',
  async open() {
    mongoDatabaseUrl = withDatabase(mongoUrl ?? '', `beacon_contract_${randomUUID().slice(0, 8)}`);
    return MongoStore.connect(mongoDatabaseUrl);
  },
  async reopen() {
    return MongoStore.connect(mongoDatabaseUrl);
  },
  async cleanup() {
    const mongoose = await import('mongoose');
    const connection = await mongoose.default.createConnection(mongoDatabaseUrl).asPromise();
    await connection.dropDatabase();
    await connection.close();
  },
};

afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const T0 = Date.UTC(2030, 0, 1);

function input(overrides: Partial<RegisterServiceDto> = {}): RegisterServiceDto {
  return { name: 'svc', host: '10.0.0.1', port: 80, ...overrides };
}

for (const adapter of [sqlite, mongo]) {
  describe.skipIf(adapter.skip !== false)(
    `ServiceStore contract: ${adapter.name}${adapter.skip ? ` (skipped: ${adapter.skip})` : ''}`,
    () => {
      let store: ServiceStore;

      beforeEach(async () => {
        store = await adapter.open();
      });

      afterEach(async () => {
        await store.close();
        await adapter.cleanup();
      });

      const register = (dto: RegisterServiceDto, now = T0, ttl = 300) =>
        store.register({ name: dto.name, host: dto.host, port: dto.port, instance_id: dto.instance_id }, (existing) =>
          draftRegistration({ ttl, ...dto }, existing, now, BUILT_IN_DEFAULTS),
        );

      it('creates a record with a revision and reads it back unchanged', async () => {
        const { record, previous, superseded } = await register(
          input({ tags: ['a', 'b'], metadata: { rack: 'r1', 'app.kubernetes.io/name': 'x' }, mdns_txt_records: { $ref: 'y' } }),
        );
        expect(previous).toBeNull();
        expect(superseded).toBeNull();
        expect(record.revision).toBeGreaterThan(0);
        expect(await store.get(record.service_id)).toEqual(record);
        expect(await store.get(randomUUID())).toBeNull();
      });

      it('updates the same (name, host, port) in place instead of duplicating it', async () => {
        const first = await register(input({ tags: ['a'] }));
        const second = await register(input({ tags: ['b'] }), T0 + 1000);
        expect(second.record.service_id).toBe(first.record.service_id);
        expect(second.previous?.revision).toBe(first.record.revision);
        expect(second.record.revision).toBeGreaterThan(first.record.revision);
        expect(second.record.created_at).toBe(T0);
        const { total } = await store.list({}, { limit: 10, skip: 0 }, T0);
        expect(total).toBe(1);
        expect((await store.list({ tags: ['a'] }, { limit: 10, skip: 0 }, T0)).total).toBe(0);
      });

      it('follows (name, instance_id) to a new endpoint and supersedes whoever held it', async () => {
        const moving = await register(input({ instance_id: 'i-1', port: 80 }));
        const holder = await register(input({ port: 81 }));
        const moved = await register(input({ instance_id: 'i-1', port: 81 }), T0 + 1000);
        expect(moved.record.service_id).toBe(moving.record.service_id);
        expect(moved.record.port).toBe(81);
        expect(moved.superseded?.service_id).toBe(holder.record.service_id);
        expect(moved.superseded?.revision).toBeGreaterThan(holder.record.revision);
        expect(await store.get(holder.record.service_id)).toBeNull();
        // A new instance id at a known endpoint takes the endpoint over (a restarted container).
        const restarted = await register(input({ instance_id: 'i-2', port: 81 }), T0 + 2000);
        expect(restarted.record.service_id).toBe(moving.record.service_id);
        expect(restarted.record.instance_id).toBe('i-2');
      });

      it('modifies atomically, changes nothing on null, and refuses a taken identity', async () => {
        const a = await register(input({ port: 1 }));
        const b = await register(input({ port: 2 }));
        const changed = await store.modify(a.record.service_id, (current) => ({ ...current, version: '9' }));
        expect(changed?.record.version).toBe('9');
        expect(changed?.previous.version).toBeNull();
        expect(await store.modify(a.record.service_id, () => null)).toBeNull();
        expect(await store.modify(randomUUID(), (current) => current)).toBeNull();
        await expect(store.modify(a.record.service_id, (current) => ({ ...current, port: 2 }))).rejects.toBeInstanceOf(
          IdentityConflictError,
        );
        expect((await store.get(a.record.service_id))?.port).toBe(1);
        expect((await store.get(b.record.service_id))?.port).toBe(2);
      });

      it('removes a record with a fresh revision, once', async () => {
        const { record } = await register(input());
        const removed = await store.remove(record.service_id);
        expect(removed?.service_id).toBe(record.service_id);
        expect(removed?.revision).toBeGreaterThan(record.revision);
        expect(await store.remove(record.service_id)).toBeNull();
      });

      it('numbers every mutation with a larger revision than the one before', async () => {
        const revisions: number[] = [];
        const { record } = await register(input());
        revisions.push(record.revision);
        revisions.push((await register(input()))?.record.revision);
        revisions.push((await store.modify(record.service_id, (current) => ({ ...current, version: 'x' })))?.record.revision ?? 0);
        revisions.push((await register(input({ port: 2 })))?.record.revision);
        revisions.push((await store.remove(record.service_id))?.revision ?? 0);
        for (let index = 1; index < revisions.length; index += 1) {
          expect(revisions[index]).toBeGreaterThan(revisions[index - 1] ?? Infinity);
        }
      });

      describe('list', () => {
        let records: ServiceRecord[];

        beforeEach(async () => {
          records = [];
          const specs: Partial<RegisterServiceDto>[] = [
            { name: 'web', type: 'http', tags: ['prod', 'eu'], metadata: { rack: 'r1', team: 'core' }, version: '1.0', node_id: 'n1' },
            { name: 'web', type: 'http', port: 81, tags: ['prod', 'us'], metadata: { rack: 'r2' }, version: '2.0', node_id: 'n2' },
            { name: 'broker', type: 'mqtt', protocol: 'mqtt', tags: ['prod'], metadata: { rack: 'r1' } },
            { name: 'db', type: 'database', tags: ['eu'], protocol: 'tcp' },
          ];
          for (const [index, spec] of specs.entries()) {
            records.push((await register(input({ port: 80, ...spec }), T0 + index * 1000)).record);
          }
          // One of them is past its expires_at (effective expiry) and one is unhealthy.
          await store.modify(records[3]!.service_id, (current) => ({ ...current, expires_at: T0 + 5000 }));
          await store.modify(records[2]!.service_id, (current) => ({ ...current, status: 'unhealthy', health: 'unhealthy' }));
        });

        const now = T0 + 10_000;
        const names = async (filter: Parameters<ServiceStore['list']>[0]): Promise<string[]> =>
          (await store.list(filter, { limit: 50, skip: 0 }, now)).records.map((record) => `${record.name}:${record.port}`);

        it('orders by creation and pages with a total', async () => {
          expect(await names({})).toEqual(['web:80', 'web:81', 'broker:80', 'db:80']);
          const page = await store.list({}, { limit: 2, skip: 1 }, now);
          expect(page.records.map((record) => record.port)).toEqual([81, 80]);
          expect(page.total).toBe(4);
          expect((await store.list({}, { limit: 2, skip: 10 }, now)).total).toBe(4);
        });

        it('filters by each field, all conditions together', async () => {
          expect(await names({ type: 'http' })).toEqual(['web:80', 'web:81']);
          expect(await names({ protocol: 'mqtt' })).toEqual(['broker:80']);
          expect(await names({ name: 'db' })).toEqual(['db:80']);
          expect(await names({ version: '2.0' })).toEqual(['web:81']);
          expect(await names({ node_id: 'n1' })).toEqual(['web:80']);
          expect(await names({ health: 'unhealthy' })).toEqual(['broker:80']);
          expect(await names({ tags: ['prod'] })).toEqual(['web:80', 'web:81', 'broker:80']);
          expect(await names({ tags: ['prod', 'eu'] })).toEqual(['web:80']);
          expect(await names({ tags: ['prod', 'nowhere'] })).toEqual([]);
          expect(await names({ metadata: { rack: 'r1' } })).toEqual(['web:80', 'broker:80']);
          expect(await names({ metadata: { rack: 'r1', team: 'core' } })).toEqual(['web:80']);
          expect(await names({ type: 'http', tags: ['us'], metadata: { rack: 'r2' } })).toEqual(['web:81']);
        });

        it('filters by effective status: past expires_at is expired whatever is stored', async () => {
          expect(await names({ status: 'expired' })).toEqual(['db:80']);
          expect(await names({ status: 'active' })).toEqual(['web:80', 'web:81']);
          expect(await names({ status: 'unhealthy' })).toEqual(['broker:80']);
          expect(await store.countByStatus(now)).toEqual({ total: 4, active: 2, inactive: 0, expired: 1, unhealthy: 1 });
        });

        it('treats operator-looking values as plain values', async () => {
          expect(await names({ name: '{"$ne":""}' })).toEqual([]);
          expect(await names({ metadata: { rack: '$gt' } })).toEqual([]);
          expect(await names({ tags: ["' OR 1=1 --"] })).toEqual([]);
        });

        it('lists distinct types and tags, sorted', async () => {
          expect(await store.distinctTypes()).toEqual(['database', 'http', 'mqtt']);
          expect(await store.distinctTags()).toEqual(['eu', 'prod', 'us']);
        });
      });

      it('finds what is due, and purges only what expired before the cutoff', async () => {
        const early = await register(input({ port: 1 }), T0, 10);
        const late = await register(input({ port: 2 }), T0, 100);
        const due = await store.dueForExpiry(T0 + 20_000, 100);
        expect(due.map((record) => record.service_id)).toEqual([early.record.service_id]);
        await store.modify(early.record.service_id, (current) => ({ ...current, status: 'expired' }));
        expect(await store.dueForExpiry(T0 + 20_000, 100)).toEqual([]);
        // A cutoff ahead of the clock reaches only what has expired by now: `late` (live until T0 + 100 s) stays.
        const purged = await store.removeExpiredBefore(T0 + 3_600_000, T0 + 50_000);
        expect(purged.map((record) => record.service_id)).toEqual([early.record.service_id]);
        expect(purged[0]?.revision).toBeGreaterThan(early.record.revision);
        expect(await store.get(late.record.service_id)).not.toBeNull();
        expect(await store.get(early.record.service_id)).toBeNull();
      });

      it('never purges a live record, whatever the cutoff', async () => {
        const live = await register(input({ port: 3 }), T0, 100);
        expect(await store.removeExpiredBefore(Number.MAX_SAFE_INTEGER, T0 + 1000)).toEqual([]);
        // At its deadline it is expired, and then it goes.
        const atDeadline = await store.removeExpiredBefore(Number.MAX_SAFE_INTEGER, T0 + 100_000);
        expect(atDeadline.map((record) => record.service_id)).toEqual([live.record.service_id]);
      });

      it('keeps identities apart whatever characters they hold (no separator collisions)', async () => {
        // Joined with NUL, these two were one key: the second registration replaced the first.
        const first = await register(input({ name: 'a', instance_id: 'b\u0000c' }));
        const second = await register(input({ name: 'a\u0000b', instance_id: 'c' }));
        expect(second.previous).toBeNull();
        expect(second.record.service_id).not.toBe(first.record.service_id);
        expect((await store.findInstance('a', 'b\u0000c'))?.service_id).toBe(first.record.service_id);
        expect((await store.findInstance('a\u0000b', 'c'))?.service_id).toBe(second.record.service_id);
        const valued = await register(input({ name: 'x', port: 1, metadata: { k: 'v\u0000w' } }));
        const keyed = await register(input({ name: 'x', port: 2, metadata: { 'k\u0000v': 'w' } }));
        const withMetadata = async (metadata: Record<string, string>) =>
          (await store.list({ metadata }, { limit: 10, skip: 0 }, T0)).records.map((record) => record.service_id);
        expect(await withMetadata({ k: 'v\u0000w' })).toEqual([valued.record.service_id]);
        expect(await withMetadata({ 'k\u0000v': 'w' })).toEqual([keyed.record.service_id]);
      });

      it('pages a snapshot, each record exactly once, with the current revision', async () => {
        const ids: string[] = [];
        for (let port = 1; port <= 7; port += 1) ids.push((await register(input({ port }), T0 + port)).record.service_id);
        const seen: string[] = [];
        let after: string | null = null;
        let revision = 0;
        let pages = 0;
        do {
          const page = await store.snapshotPage(after, 3);
          revision ||= page.revision;
          seen.push(...page.records.map((record) => record.service_id));
          if (pages === 0 && page.next) {
            // The record the cursor names may be gone by the next request.
            const last = page.records.at(-1) as ServiceRecord;
            expect(store.snapshotCursor(last)).toBe(page.next);
            await store.remove(last.service_id);
            ids.splice(ids.indexOf(last.service_id), 1);
            seen.pop();
          }
          after = page.next;
          pages += 1;
        } while (after && pages < 10);
        expect([...seen].sort()).toEqual([...ids].sort());
        expect(new Set(seen).size).toBe(seen.length);
        expect(revision).toBe(7);
      });

      it('keeps a bounded check history per service, newest first, gone with the service', async () => {
        const { record } = await register(input());
        const entry = (n: number) => ({
          checked_at: new Date(T0 + n * 1000).toISOString(),
          kind: 'http' as const,
          health: 'healthy' as const,
          outcome: 'healthy' as const,
          status_code: 200,
          response_time_ms: n,
          load: null,
          error: null,
        });
        for (let n = 1; n <= HEALTH_HISTORY.perService + 5; n += 1) await store.appendHealthCheck(record.service_id, entry(n));
        const all = await store.healthChecks(record.service_id, 1000, 0);
        expect(all.total).toBe(HEALTH_HISTORY.perService);
        expect(all.checks[0]?.response_time_ms).toBe(HEALTH_HISTORY.perService + 5);
        expect(all.checks.at(-1)?.response_time_ms).toBe(6);
        const recent = await store.healthChecks(record.service_id, 3, T0 + (HEALTH_HISTORY.perService + 3) * 1000);
        expect(recent.checks.map((check) => check.response_time_ms)).toEqual([
          HEALTH_HISTORY.perService + 5,
          HEALTH_HISTORY.perService + 4,
          HEALTH_HISTORY.perService + 3,
        ]);
        expect(recent.total).toBe(3);
        await store.appendHealthCheck(randomUUID(), entry(1)); // an unknown service keeps nothing
        await store.remove(record.service_id);
        expect((await store.healthChecks(record.service_id, 10, 0)).total).toBe(0);
      });

      it("finds seed 004's instances by (name, instance_id), and lists the live ones by name", async () => {
        const a1 = await register(input({ name: 'a', instance_id: 'i-1', port: 1 }), T0 + 2);
        const a2 = await register(input({ name: 'a', instance_id: 'i-2', port: 2 }), T0 + 1);
        const b1 = await register(input({ name: 'b', instance_id: 'i-1', port: 3 }), T0);
        await register(input({ name: 'a', port: 4 })); // no instance_id: not an instance
        const gone = await register(input({ name: 'a', instance_id: 'old', port: 5 }), T0 - 400_000); // expired by T0
        expect((await store.findInstance('a', 'i-1'))?.service_id).toBe(a1.record.service_id);
        expect((await store.findInstance('b', 'i-1'))?.service_id).toBe(b1.record.service_id);
        expect((await store.findInstance('a', 'old'))?.service_id).toBe(gone.record.service_id);
        expect(await store.findInstance('c', 'i-1')).toBeNull();
        expect(await store.findInstance('a', '{"$ne":null}')).toBeNull();
        const ids = (records: ServiceRecord[]): string[] => records.map((record) => record.service_id);
        expect(ids(await store.listInstances('a', T0))).toEqual([a2.record.service_id, a1.record.service_id]);
        expect(ids(await store.listInstances(null, T0))).toEqual([a2.record.service_id, a1.record.service_id, b1.record.service_id]);
        expect(await store.listInstances('nobody', T0)).toEqual([]);
      });

      it('counts by status, health and type, recent checks, at the current revision (also after a reopen)', async () => {
        const now = Date.now();
        const web = await register(input({ name: 'web', type: 'http', port: 1 }), now);
        await register(input({ name: 'mq', type: 'mqtt', port: 2 }), now);
        await register(input({ name: 'old', type: 'mqtt', port: 3 }), now - 400_000); // expired by now
        const checked = await store.modify(web.record.service_id, (current) => ({ ...current, health: 'healthy' }));
        const entry = (at: number) => ({
          checked_at: new Date(at).toISOString(),
          kind: 'http' as const,
          health: 'healthy' as const,
          outcome: 'healthy' as const,
          status_code: 200,
          response_time_ms: 1,
          load: null,
          error: null,
        });
        for (const at of [now - 120_000, now - 30_000, now - 1000, now]) await store.appendHealthCheck(web.record.service_id, entry(at));
        const expected = {
          revision: checked?.record.revision,
          total: 3,
          by_status: { active: 2, inactive: 0, expired: 1, unhealthy: 0 },
          by_health: { unknown: 2, healthy: 1, degraded: 0, unhealthy: 0 },
          by_type: { http: 1, mqtt: 2 },
          checks: 3,
        };
        expect(await store.stats(now)).toEqual(expected);
        await store.close();
        store = await adapter.reopen();
        expect(await store.stats(now)).toEqual(expected);
        expect((await store.stats(now + 45_000)).checks).toBe(2);
      });

      it('keeps its data and revision counter across a reopen', async () => {
        const { record } = await register(input());
        await store.close();
        store = await adapter.reopen();
        expect(await store.get(record.service_id)).toEqual(record);
        const next = await register(input({ port: 2 }));
        expect(next.record.revision).toBeGreaterThan(record.revision);
        expect(await store.ping()).toBeGreaterThanOrEqual(0);
      });
    },
  );
}
