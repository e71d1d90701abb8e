import type { AnyServiceEvent, Service } from '@beacon/contracts';

export type CatalogChange = { kind: 'upsert'; service: Service; previous: Service | null } | { kind: 'remove'; service: Service };

/**
 * The rules of a local copy of the catalog, without any I/O: a change applies only if
 * it is newer (by revision) than what is held for that service; a removal leaves a
 * tombstone so a late, older event cannot bring the service back; a snapshot replaces
 * everything and reports what differs.
 */
export class CatalogState {
  private services = new Map<string, Service>();
  private readonly tombstones = new Map<string, number>();
  /** Revision of the last snapshot: absent services with older events were deleted before it. */
  private snapshotRevision = 0;
  private highest = 0;

  /**
   * The highest revision this copy reflects (a snapshot's, or an event's since). With one
   * registry-api publishing in revision order, every change up to it is in the copy.
   */
  get revision(): number {
    return this.highest;
  }

  get size(): number {
    return this.services.size;
  }

  get(serviceId: string): Service | undefined {
    return this.services.get(serviceId);
  }

  values(): IterableIterator<Service> {
    return this.services.values();
  }

  /** Applies one event; returns the change it made, or null if it was stale. */
  apply(event: AnyServiceEvent): CatalogChange | null {
    const service = event.service;
    const id = service.service_id;
    const current = this.services.get(id);
    const known = current?.revision ?? this.tombstones.get(id) ?? (event.revision <= this.snapshotRevision ? Infinity : 0);
    if (event.revision <= known) return null;
    this.highest = Math.max(this.highest, event.revision);
    if (event.type === 'service.deregistered') {
      this.services.delete(id);
      this.tombstones.set(id, event.revision);
      return current ? { kind: 'remove', service: current } : null;
    }
    this.services.set(id, service);
    this.tombstones.delete(id);
    return { kind: 'upsert', service, previous: current ?? null };
  }

  /**
   * Replaces the copy with a snapshot taken at `revision`; returns what changed against
   * the copy held before (services added or newer, and services gone).
   */
  replace(snapshot: Iterable<Service>, revision: number): CatalogChange[] {
    const previous = this.services;
    const next = new Map<string, Service>();
    for (const service of snapshot) next.set(service.service_id, service);
    this.services = next;
    this.snapshotRevision = revision;
    this.highest = Math.max(this.highest, revision);
    for (const [id, removedAt] of this.tombstones) if (removedAt <= revision) this.tombstones.delete(id);
    const changes: CatalogChange[] = [];
    for (const [id, service] of next) {
      const before = previous.get(id);
      if (!before || before.revision !== service.revision) changes.push({ kind: 'upsert', service, previous: before ?? null });
    }
    for (const [id, service] of previous) if (!next.has(id)) changes.push({ kind: 'remove', service });
    return changes;
  }
}
