import type { Service, StoredEvent } from '@beacon/contracts';
import type { CatalogChange } from '@beacon/platform';

/** What client filters look at in a service record (type, tags, name, service_id), and its revision. */
export type ServiceScope = Pick<Service, 'service_id' | 'type' | 'tags' | 'name' | 'revision'>;

/**
 * The version of a service before an event: its filter fields, `null` when there was none
 * (a registration, or not a service event), or `unknown` when the gateway cannot tell (a
 * client whose filters the new record misses may still hold the service: it gets the event).
 */
export type Previous = ServiceScope | null | 'unknown';

/** A catalog copy that knows nothing: for a replay read from the stream, which tells only what it reads. */
export const NO_COPY: CatalogCopy = { size: 0, get: () => undefined, onChange: () => undefined };

/** What the scopes read of the gateway's catalog copy (`CatalogView`). */
export interface CatalogCopy {
  readonly size: number;
  get(serviceId: string): Service | undefined;
  onChange(listener: (change: CatalogChange) => void): unknown;
}

/** Entries always allowed, whatever the catalog copy's size (it is 0 before its first sync). */
const MIN_ENTRIES = 10_000;

/**
 * The filter fields of the last version of each service the feed passed on, so a client
 * whose filters matched that version hears the change that takes the service out of them.
 * Kept in the feed path rather than read from the catalog copy: the copy hears events on
 * core NATS and the feed on JetStream, in no set order, so the copy may already hold the
 * new record; so for a service the feed has not passed on yet (since it started), the copy
 * tells the version its change replaced, and that is kept until the feed sees the change.
 * Bounded by the catalog: a deregistration forgets its service, and past
 * `max(MIN_ENTRIES, 2 × catalog size)` the least recently changed go first (their next
 * change falls back to the copy, else is `unknown`).
 */
export class ServiceScopes {
  private readonly held = new Map<string, ServiceScope>();

  constructor(private readonly catalog: CatalogCopy) {
    catalog.onChange((change) => {
      if (change.kind === 'upsert' && change.previous !== null && !this.held.has(change.service.service_id)) this.remember(change.previous);
    });
  }

  get size(): number {
    return this.held.size;
  }

  /** The version of the event's service before it, and remembers the event's own version. */
  advance({ event }: StoredEvent): Previous {
    const service = recordOf(event);
    if (!service) return null;
    const id = service.service_id;
    const remembered = this.held.get(id);
    // The newest version older than this one, of the two.
    let previous: ServiceScope | null = null;
    for (const candidate of [remembered, this.catalog.get(id)]) {
      if (candidate && candidate.revision < service.revision && candidate.revision > (previous?.revision ?? -1)) previous = candidate;
    }
    // An event older than one passed on already changes nothing a client holds.
    if (remembered && remembered.revision >= service.revision) return previous && scopeOf(previous);
    if (event.type === 'service.deregistered') this.held.delete(id);
    else this.remember(service);
    if (previous) return scopeOf(previous);
    return event.type === 'service.registered' ? null : 'unknown';
  }

  /** Keeps a version, most recently changed last, within the bound. */
  private remember(service: ServiceScope): void {
    this.held.delete(service.service_id);
    this.held.set(service.service_id, scopeOf(service));
    const limit = Math.max(MIN_ENTRIES, 2 * this.catalog.size);
    for (const oldest of this.held.keys()) {
      if (this.held.size <= limit) break;
      this.held.delete(oldest);
    }
  }

  /** Forgets everything (the stream was recreated: the versions held may be gone). */
  clear(): void {
    this.held.clear();
  }
}

/** The record a service event carries (the whole record after the change); null for other events. */
function recordOf(event: StoredEvent['event']): Service | null {
  switch (event.type) {
    case 'service.registered':
    case 'service.updated':
    case 'service.expired':
    case 'service.deregistered':
    case 'service.health_changed':
    case 'service.critical_load':
      return event.service;
    default:
      return null;
  }
}

function scopeOf({ service_id, type, tags, name, revision }: ServiceScope): ServiceScope {
  return { service_id, type, tags, name, revision };
}
