import { tombstoneLive, type Tombstone } from '../service-store';

const endpointKey = (name: string, host: string, port: number): string => JSON.stringify([name, host, port]);
const instanceKey = (name: string, instanceId: string): string => JSON.stringify([name, instanceId]);

/**
 * The embedded store's tombstones in memory: by id, by seed 004's `(name, instance_id)` and
 * by endpoint. Kept in deletion order (a Map keeps insertion order, and a tombstone put
 * again moves to the end), so the oldest is first when the cap drops some.
 */
export class TombstoneIndex {
  private readonly byId = new Map<string, Tombstone>();
  private readonly byEndpoint = new Map<string, string>();
  private readonly byInstance = new Map<string, string>();

  get size(): number {
    return this.byId.size;
  }

  get(serviceId: string): Tombstone | null {
    return this.byId.get(serviceId) ?? null;
  }

  /** Adds or replaces, as the newest. */
  put(tombstone: Tombstone): void {
    this.delete(tombstone.service_id);
    this.byId.set(tombstone.service_id, tombstone);
    this.byEndpoint.set(endpointKey(tombstone.name, tombstone.host, tombstone.port), tombstone.service_id);
    if (tombstone.instance_id !== null) this.byInstance.set(instanceKey(tombstone.name, tombstone.instance_id), tombstone.service_id);
  }

  delete(serviceId: string): boolean {
    const tombstone = this.byId.get(serviceId);
    if (!tombstone) return false;
    this.byId.delete(serviceId);
    const endpoint = endpointKey(tombstone.name, tombstone.host, tombstone.port);
    if (this.byEndpoint.get(endpoint) === serviceId) this.byEndpoint.delete(endpoint);
    if (tombstone.instance_id !== null) {
      const instance = instanceKey(tombstone.name, tombstone.instance_id);
      if (this.byInstance.get(instance) === serviceId) this.byInstance.delete(instance);
    }
    return true;
  }

  /** The live tombstone a registration of this identity takes its id back from (instance first, as registration matches). */
  forIdentity(identity: { name: string; host: string; port: number; instance_id?: string }, now: number): Tombstone | null {
    const byInstance = identity.instance_id ? this.instance(identity.name, identity.instance_id, now) : null;
    if (byInstance) return byInstance;
    return this.live(this.byEndpoint.get(endpointKey(identity.name, identity.host, identity.port)), now);
  }

  instance(name: string, instanceId: string, now: number): Tombstone | null {
    return this.live(this.byInstance.get(instanceKey(name, instanceId)), now);
  }

  /** The oldest `count` tombstones' ids (the ones a cap drops first). */
  oldest(count: number): string[] {
    const ids: string[] = [];
    for (const id of this.byId.keys()) {
      if (ids.length >= count) break;
      ids.push(id);
    }
    return ids;
  }

  /** Ids of tombstones expired at `now`. */
  expired(now: number): string[] {
    return [...this.byId.values()].filter((tombstone) => !tombstoneLive(tombstone, now)).map((tombstone) => tombstone.service_id);
  }

  live(serviceId: string | undefined, now: number): Tombstone | null {
    const tombstone = serviceId === undefined ? undefined : this.byId.get(serviceId);
    return tombstone && tombstoneLive(tombstone, now) ? tombstone : null;
  }

  all(): Tombstone[] {
    return [...this.byId.values()];
  }
}
