import type { WebhookDelivery, WebhookTarget } from '@beacon/contracts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoStore } from '../src/store/mongo/mongo-store';
import type { ServiceStore } from '../src/store/service-store';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import type { WebhookStore } from '../src/webhooks/webhook-store';
import { adapterFor } from '../src/webhooks/webhook-store.provider';

/**
 * One suite for both webhook store adapters, each on the catalog store's own database (its
 * `handle`), as registry-api runs them. The Mongo leg runs wherever BEACON_MONGODB_URL
 * reaches a server, in a database of its own that it drops afterwards.
 */
interface Backend {
  name: string;
  skip: string | false;
  open(): Promise<ServiceStore>;
  reopen(): Promise<ServiceStore>;
  cleanup(): Promise<void>;
}

const tempDir = mkdtempSync(join(tmpdir(), 'beacon-webhook-store-'));
let sqliteFile = '';
const mongoUrl = process.env.BEACON_MONGODB_URL;
let mongoDatabaseUrl = '';

const backends: Backend[] = [
  {
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
  },
  {
    name: 'mongodb',
    skip: mongoUrl ? false : 'BEACON_MONGODB_URL is not set: no MongoDB server to run the Mongo leg against',
    async open() {
      const url = new URL(mongoUrl ?? '');
      url.pathname = `/beacon_webhooks_${randomUUID().slice(0, 8)}`;
      mongoDatabaseUrl = url.toString();
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
  },
];

afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const T0 = Date.UTC(2030, 0, 1);
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function webhook(overrides: Partial<WebhookTarget> = {}): WebhookTarget {
  return {
    webhook_id: randomUUID(),
    url: 'https://hooks.example.com/in?token=abc',
    events: ['incident_opened', 'service_expired'],
    format: 'generic',
    service_id: null,
    type: 'http',
    tags: ['prod', 'web'],
    description: 'on-call',
    secret: 'a-secret-of-16-chars',
    enabled: true,
    created_at: at(0),
    updated_at: at(0),
    ...overrides,
  };
}

function delivery(webhookId: string, n: number, overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    delivery_id: `e${n}:${webhookId}`,
    webhook_id: webhookId,
    event_type: 'incident_opened',
    status: 'delivered',
    attempts: 1,
    status_code: 200,
    last_error: null,
    latency_ms: 4.5,
    event_at: at(n),
    updated_at: at(n),
    ...overrides,
  };
}

for (const backend of backends) {
  describe.skipIf(backend.skip !== false)(
    `WebhookStore contract: ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`,
    () => {
      let catalog: ServiceStore;
      let store: WebhookStore;

      beforeEach(async () => {
        catalog = await backend.open();
        store = adapterFor(catalog.handle);
        await store.open();
      });

      afterEach(async () => {
        await catalog.close();
        await backend.cleanup();
      });

      it('keeps a webhook whole, secret and URL included, and lists oldest first', async () => {
        const first = webhook();
        const second = webhook({ created_at: at(5), updated_at: at(5), secret: null, service_id: randomUUID(), tags: [] });
        expect(await store.insert(second, 0)).toBe(true);
        expect(await store.insert(first, 0)).toBe(true);
        expect(await store.get(first.webhook_id)).toEqual(first);
        expect(await store.get(randomUUID())).toBeNull();
        expect(await store.list({ limit: 10, skip: 0 })).toEqual({ webhooks: [first, second], total: 2 });
        expect(await store.list({ limit: 1, skip: 1 })).toEqual({ webhooks: [second], total: 2 });
        expect(await store.all()).toEqual([first, second]);
      });

      it('refuses an insert at the cap, and stores nothing', async () => {
        expect(await store.insert(webhook(), 2)).toBe(true);
        expect(await store.insert(webhook(), 2)).toBe(true);
        expect(await store.insert(webhook(), 2)).toBe(false);
        expect((await store.list({ limit: 10, skip: 0 })).total).toBe(2);
      });

      it('replaces a definition (keeping created_at) and deletes a webhook with its log', async () => {
        const original = webhook();
        await store.insert(original, 0);
        const changed = {
          ...original,
          url: 'https://other.example.com/',
          events: ['*'] as WebhookTarget['events'],
          enabled: false,
          updated_at: at(9),
        };
        expect(await store.replace(changed)).toBe(true);
        expect(await store.get(original.webhook_id)).toEqual(changed);
        expect(await store.replace(webhook())).toBe(false);

        await store.recordDeliveries([delivery(original.webhook_id, 1)], 10);
        expect(await store.delete(original.webhook_id)).toBe(true);
        expect(await store.delete(original.webhook_id)).toBe(false);
        expect(await store.get(original.webhook_id)).toBeNull();
        expect(await store.deliveries(original.webhook_id, { limit: 10 })).toEqual([]);
        // A late report for it is ignored, not a log without a webhook.
        expect(await store.recordDeliveries([delivery(original.webhook_id, 2)], 10)).toBe(0);
        expect(await store.deliveries(original.webhook_id, { limit: 10 })).toEqual([]);
      });

      it('upserts deliveries by id, never an older attempt over a newer one, and keeps the newest per webhook', async () => {
        const a = webhook();
        const b = webhook();
        await store.insert(a, 0);
        await store.insert(b, 0);
        const batch = [1, 2, 3, 4, 5, 6].map((n) => delivery(a.webhook_id, n));
        expect(await store.recordDeliveries([...batch, delivery(b.webhook_id, 1)], 4)).toBe(7);
        expect((await store.deliveries(a.webhook_id, { limit: 10 })).map((entry) => entry.delivery_id)).toEqual(
          [6, 5, 4, 3].map((n) => `e${n}:${a.webhook_id}`),
        );
        expect(await store.deliveries(b.webhook_id, { limit: 10 })).toEqual([delivery(b.webhook_id, 1)]);

        const retry = delivery(a.webhook_id, 4, {
          status: 'retrying',
          attempts: 3,
          status_code: 503,
          last_error: 'HTTP 503',
          updated_at: at(20),
        });
        const stale = delivery(a.webhook_id, 4, { status: 'retrying', attempts: 2, updated_at: at(10) });
        await store.recordDeliveries([retry], 4);
        await store.recordDeliveries([stale], 4);
        const log = await store.deliveries(a.webhook_id, { limit: 10 });
        expect(log[0]).toEqual(retry);
        expect(log).toHaveLength(4);
        expect(await store.deliveries(a.webhook_id, { limit: 10, status: 'retrying' })).toEqual([retry]);
        expect(await store.deliveries(a.webhook_id, { limit: 2 })).toHaveLength(2);
      });

      it('keeps webhooks and logs across a reopen', async () => {
        const kept = webhook();
        await store.insert(kept, 0);
        await store.recordDeliveries([delivery(kept.webhook_id, 1)], 10);
        await catalog.close();
        catalog = await backend.reopen();
        store = adapterFor(catalog.handle);
        await store.open();
        expect(await store.get(kept.webhook_id)).toEqual(kept);
        expect(await store.deliveries(kept.webhook_id, { limit: 10 })).toEqual([delivery(kept.webhook_id, 1)]);
      });
    },
  );
}
