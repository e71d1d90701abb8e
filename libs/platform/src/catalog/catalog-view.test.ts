import { Subjects, WIRE_VERSION, type AnyServiceEvent, type Service, type SnapshotReply } from '@beacon/contracts';
import { sleep, waitFor } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, serviceRecord, startNatsFixture, type ConnectedService, type NatsFixture } from '../nats/nats.fixture';
import { CatalogView, type CatalogChange } from './catalog-view';

const service = (id: string, revision: number): Service => serviceRecord(id, revision);

function event(type: 'service.registered' | 'service.updated' | 'service.deregistered', svc: Service): AnyServiceEvent {
  const base = { v: WIRE_VERSION, timestamp: new Date().toISOString(), revision: svc.revision, service: svc };
  return type === 'service.deregistered' ? { ...base, type, reason: 'deregistered' } : { ...base, type };
}

const SUBJECT = {
  'service.registered': Subjects.serviceRegistered,
  'service.updated': Subjects.serviceUpdated,
  'service.deregistered': Subjects.serviceDeregistered,
} as const;

/**
 * A stand-in registry-api on the real bus: it serves the snapshot from `catalog` (paged by
 * `after`) and publishes events as registry-api does. `beforeReply` runs while a snapshot
 * request is being answered, to publish what happens meanwhile.
 */
class Registry {
  catalog: Service[] = [];
  revision = 0;
  requests = 0;
  beforeReply: (() => Promise<void>) | null = null;

  constructor(private readonly bus: ConnectedService) {
    bus.nats.serve(Subjects.registrySnapshot, null, async (request) => {
      this.requests += 1;
      const revision = this.revision;
      const before = this.beforeReply;
      this.beforeReply = null;
      if (before) await before();
      const start = request.after ? Number(request.after) : 0;
      const limit = request.limit ?? 500;
      const services = this.catalog.slice(start, start + limit);
      const next = start + limit < this.catalog.length ? String(start + limit) : null;
      const reply: SnapshotReply = { v: 1, revision, services, next };
      return reply;
    });
  }

  async publish(type: keyof typeof SUBJECT, svc: Service): Promise<void> {
    const raw = event(type, svc);
    this.bus.nats.publish(SUBJECT[type], raw as never);
    await sleep(30);
  }
}

let fixture: NatsFixture;
let registry: Registry;
let consumer: ConnectedService;

beforeAll(async () => {
  fixture = await startNatsFixture();
  registry = new Registry(await fixture.service());
  consumer = await fixture.service();
});

afterAll(async () => {
  await fixture?.close();
});

function startView(pageSize = 500): { view: CatalogView; changes: CatalogChange[]; started: Promise<void> } {
  const view = new CatalogView(consumer.nats, consumer.logger, { resyncIntervalMs: 60_000, pageSize, requestTimeoutMs: 1000 });
  const changes: CatalogChange[] = [];
  view.onChange((change) => changes.push(change));
  return { view, changes, started: view.start() };
}

describe('CatalogView', () => {
  it('adopts a paged snapshot, then applies only the buffered events newer than it', async () => {
    registry.catalog = [service('a', 3), service('b', 5), service('c', 8)];
    registry.revision = 10;
    registry.beforeReply = async () => {
      // Published while the snapshot is read: one the snapshot already holds, one after it.
      await registry.publish('service.updated', service('b', 5));
      await registry.publish('service.updated', service('c', 11));
      await registry.publish('service.registered', service('d', 12));
    };
    const { view, changes, started } = startView(2);
    await started;
    expect(view.ready).toBe(true);
    expect(registry.requests).toBeGreaterThanOrEqual(2); // two pages
    expect([...view.values()].map((s) => `${s.service_id}@${s.revision}`).sort()).toEqual(['a@3', 'b@5', 'c@11', 'd@12']);
    expect(view.revision).toBe(12);
    expect(changes.map((c) => `${c.kind}:${c.service.service_id}@${c.service.revision}`)).toEqual([
      'upsert:a@3',
      'upsert:b@5',
      'upsert:c@8',
      'upsert:c@11',
      'upsert:d@12',
    ]);
    view.stop();
  });

  it('applies live events in revision order, ignores stale ones, and never sees malformed ones', async () => {
    registry.catalog = [service('a', 3)];
    registry.revision = 3;
    const { view, changes, started } = startView();
    await started;
    changes.length = 0;
    await registry.publish('service.updated', service('a', 4));
    await registry.publish('service.updated', service('a', 2)); // stale
    const raw = await fixture.raw();
    raw.publish(Subjects.serviceUpdated, bytes({ ...event('service.updated', service('a', 9)), service: null }));
    raw.publish(Subjects.serviceDeregistered, bytes({ ...event('service.deregistered', service('a', 9)), reason: 'because' }));
    await registry.publish('service.deregistered', service('a', 5));
    await waitFor('the removal', () => changes.some((c) => c.kind === 'remove'));
    expect(changes.map((c) => `${c.kind}:${c.service.revision}`)).toEqual(['upsert:4', 'remove:4']);
    expect(view.get('a')).toBeUndefined();
    expect(await consumer.count('beacon_nats_messages_dropped_total', { reason: 'invalid' })).toBeGreaterThanOrEqual(2);
    view.stop();
  });

  it('resyncs: what changed while it missed events is reported against the copy it held', async () => {
    registry.catalog = [service('keep', 1), service('gone', 2), service('moved', 3)];
    registry.revision = 3;
    const { view, changes, started } = startView();
    await started;
    changes.length = 0;
    // Changes whose events this view never heard (as after a reconnect).
    registry.catalog = [service('keep', 1), service('moved', 6), service('new', 7)];
    registry.revision = 7;
    await view.resync('test');
    expect(changes.map((c) => `${c.kind}:${c.service.service_id}`).sort()).toEqual(['remove:gone', 'upsert:moved', 'upsert:new']);
    expect(view.size).toBe(3);
    expect(view.revision).toBe(7);
    view.stop();
  });

  it('keeps its copy and retries when the snapshot fails, ready once registry-api answers', async () => {
    const lonely = await fixture.service();
    const view = new CatalogView(lonely.nats, lonely.logger, { resyncIntervalMs: 60_000, requestTimeoutMs: 300 });
    // The first snapshot answer comes later than the request waits: that sync fails.
    registry.catalog = [service('x', 1)];
    registry.revision = 1;
    registry.beforeReply = () => sleep(600); // longer than the request timeout
    const started = view.start();
    await sleep(400);
    expect(view.ready).toBe(false);
    await started;
    expect(view.ready).toBe(true);
    expect(view.get('x')?.revision).toBe(1);
    expect(lonely.logs.some((line) => line.msg === 'catalog snapshot failed; will retry')).toBe(true);
    view.stop();
  });
});
