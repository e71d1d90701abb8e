import type { Service, StoredEvent } from '@beacon/contracts';
import type { CatalogChange } from '@beacon/platform';
import { describe, expect, it } from 'vitest';
import { ServiceScopes, type Previous } from './service-scopes';

const tagsOf = (previous: Previous): unknown => (previous === null || previous === 'unknown' ? previous : previous.tags);

const record = (id: string, revision: number, tags: string[]): Service =>
  ({ service_id: id, name: `svc-${id}`, type: 'http', tags, revision }) as Service;
const stored = (type: 'service.registered' | 'service.updated' | 'service.deregistered', service: Service): StoredEvent =>
  ({
    seq: service.revision,
    subject: `beacon.events.${type}`,
    event: { v: 1, type, timestamp: '', revision: service.revision, service },
  }) as unknown as StoredEvent;

/** A catalog copy holding `services`, whose changes the test announces. */
function copy(...services: Service[]) {
  const held = new Map(services.map((service) => [service.service_id, service]));
  const listeners: ((change: CatalogChange) => void)[] = [];
  return {
    get size() {
      return held.size;
    },
    get: (id: string) => held.get(id),
    onChange: (listener: (change: CatalogChange) => void) => listeners.push(listener),
    /** The copy applies an event (before the feed sees it). */
    apply(service: Service) {
      const previous = held.get(service.service_id) ?? null;
      held.set(service.service_id, service);
      for (const listener of listeners) listener({ kind: 'upsert', service, previous });
    },
  };
}

describe('ServiceScopes', () => {
  it('gives the version the feed passed on before, whatever the catalog copy holds', () => {
    const scopes = new ServiceScopes(copy(record('a', 3, ['red'])));
    scopes.advance(stored('service.updated', record('a', 1, ['blue'])));
    expect(tagsOf(scopes.advance(stored('service.updated', record('a', 2, ['green']))))).toEqual(['blue']);
    expect(tagsOf(scopes.advance(stored('service.updated', record('a', 3, ['red']))))).toEqual(['green']);
  });

  it('falls back to the copy only when it holds an older version', () => {
    expect(tagsOf(new ServiceScopes(copy(record('a', 1, ['blue']))).advance(stored('service.updated', record('a', 2, []))))).toEqual([
      'blue',
    ]);
    // The copy applied this very event first and announced no version before it: unknown.
    expect(new ServiceScopes(copy(record('a', 2, []))).advance(stored('service.updated', record('a', 2, [])))).toBe('unknown');
    // A registration had none.
    expect(new ServiceScopes(copy()).advance(stored('service.registered', record('b', 4, [])))).toBeNull();
  });

  it('learns the version replaced from the copy when the copy applies a change first', () => {
    const catalog = copy(record('a', 1, ['blue']));
    const scopes = new ServiceScopes(catalog);
    catalog.apply(record('a', 2, ['green']));
    expect(tagsOf(scopes.advance(stored('service.updated', record('a', 2, ['green']))))).toEqual(['blue']);
    // From there on the feed's own record, even when the copy is ahead again.
    catalog.apply(record('a', 3, ['red']));
    expect(tagsOf(scopes.advance(stored('service.updated', record('a', 3, ['red']))))).toEqual(['green']);
  });

  it('forgets deregistered services and stays within its bound', () => {
    const scopes = new ServiceScopes(copy());
    scopes.advance(stored('service.updated', record('a', 1, ['blue'])));
    scopes.advance(stored('service.deregistered', record('a', 2, ['blue'])));
    expect(scopes.size).toBe(0);
    for (let i = 0; i < 10_050; i += 1) scopes.advance(stored('service.updated', record(`s${i}`, i + 10, [])));
    expect(scopes.size).toBe(10_000);
    // The oldest went first: its next change cannot be told.
    expect(scopes.advance(stored('service.updated', record('s0', 20_000, [])))).toBe('unknown');
    expect(scopes.advance(stored('service.updated', record('s10049', 20_001, [])))).toEqual(record('s10049', 10_059, []));
  });
});
