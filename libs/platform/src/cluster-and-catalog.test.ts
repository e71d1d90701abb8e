import type { AnyServiceEvent, Service } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { CatalogState } from './catalog/catalog-state';
import { rendezvousOwner } from './cluster/rendezvous';
import { TimerQueue } from './scheduling/timer-queue';

const service = (id: string, revision: number, extra: Partial<Service> = {}): Service =>
  ({ service_id: id, name: id, revision, status: 'active', expires_at: '2030-01-01T00:00:00.000Z', ...extra }) as Service;

const event = (type: AnyServiceEvent['type'], svc: Service): AnyServiceEvent =>
  ({ v: 1, type, timestamp: '', revision: svc.revision, service: svc, reason: 'deregistered' }) as AnyServiceEvent;

describe('CatalogState', () => {
  it('applies newer events and ignores stale ones', () => {
    const state = new CatalogState();
    expect(state.apply(event('service.registered', service('a', 5)))?.kind).toBe('upsert');
    expect(state.apply(event('service.updated', service('a', 4)))).toBeNull();
    expect(state.apply(event('service.updated', service('a', 5)))).toBeNull();
    const change = state.apply(event('service.renewed', service('a', 7, { name: 'renamed' })));
    expect(change).toMatchObject({ kind: 'upsert', previous: { revision: 5 } });
    expect(state.get('a')?.name).toBe('renamed');
  });

  it('keeps a removed service removed when an older event arrives late', () => {
    const state = new CatalogState();
    state.apply(event('service.registered', service('a', 5)));
    expect(state.apply(event('service.deregistered', service('a', 9)))?.kind).toBe('remove');
    expect(state.apply(event('service.updated', service('a', 8)))).toBeNull();
    expect(state.get('a')).toBeUndefined();
    expect(state.apply(event('service.registered', service('a', 10)))?.kind).toBe('upsert');
  });

  it('adopts a snapshot, reports the differences, and then applies only newer buffered events', () => {
    const state = new CatalogState();
    state.apply(event('service.registered', service('keep', 1)));
    state.apply(event('service.registered', service('stale', 2)));
    state.apply(event('service.registered', service('gone', 3)));
    const changes = state.replace([service('keep', 1), service('stale', 6), service('new', 7)], 10);
    expect(changes.map((c) => `${c.kind}:${c.service.service_id}`).sort()).toEqual(['remove:gone', 'upsert:new', 'upsert:stale']);
    // Buffered while the snapshot was read: one older than it, one after it.
    expect(state.apply(event('service.updated', service('stale', 5)))).toBeNull();
    expect(state.apply(event('service.updated', service('gone', 4)))).toBeNull(); // deleted before the snapshot
    expect(state.apply(event('service.updated', service('keep', 11)))?.kind).toBe('upsert');
    expect(state.apply(event('service.registered', service('later', 12)))?.kind).toBe('upsert');
    expect([...state.values()].map((s) => s.service_id).sort()).toEqual(['keep', 'later', 'new', 'stale']);
  });
});

describe('rendezvousOwner', () => {
  const keys = Array.from({ length: 3000 }, (_, index) => `service-${index}`);

  it('spreads keys evenly and moves only a departed member’s keys', () => {
    const three = ['a', 'b', 'c'];
    const owners = keys.map((key) => rendezvousOwner(key, three));
    for (const member of three) {
      const share = owners.filter((owner) => owner === member).length / keys.length;
      expect(share).toBeGreaterThan(0.28);
      expect(share).toBeLessThan(0.39);
    }
    const two = ['a', 'c'];
    keys.forEach((key, index) => {
      const before = owners[index];
      const after = rendezvousOwner(key, two);
      if (before !== 'b') expect(after).toBe(before);
    });
  });

  it('does not depend on the order members are listed in', () => {
    for (const key of keys.slice(0, 200)) expect(rendezvousOwner(key, ['x', 'y', 'z'])).toBe(rendezvousOwner(key, ['z', 'x', 'y']));
    expect(rendezvousOwner('k', [])).toBeUndefined();
  });
});

describe('TimerQueue', () => {
  it('fires keys in deadline order, honours reschedules and cancels', async () => {
    const fired: string[] = [];
    const queue = new TimerQueue((due) => fired.push(...due.map((entry) => entry.key)));
    const now = Date.now();
    queue.schedule('late', now + 60);
    queue.schedule('early', now + 20);
    queue.schedule('moved', now + 10);
    queue.schedule('moved', now + 40);
    queue.schedule('cancelled', now + 30);
    queue.cancel('cancelled');
    expect(queue.size).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(fired).toEqual(['early', 'moved', 'late']);
    expect(queue.size).toBe(0);
    queue.stop();
  });
});
