import type { Service } from '@beacon/contracts';
import { recordsOf } from './record-index';
import { instanceGroup, nameAt, recordsProblem, registrationOrder, serviceRecords, type ServiceRecords } from './service-records';

/** What one change does on the LAN: groups to serve (new or different), keys to withdraw, services newly left out. */
export interface RecordChanges {
  put: ServiceRecords[];
  removed: string[];
  problems: { serviceId: string; problem: string }[];
}

interface Entry {
  service: Service;
  group: string;
  name: string;
  /** Null when the records cannot be encoded (see `problem`). */
  records: ServiceRecords | null;
  problem: string | null;
}

/** Same records on the wire: what used to be the announcer's per-service signature. */
function sameRecords(a: ServiceRecords, b: ServiceRecords): boolean {
  const left = recordsOf(a);
  const right = recordsOf(b);
  return left.length === right.length && left.every((record, index) => JSON.stringify(record) === JSON.stringify(right[index]));
}

/**
 * The records of every announceable service, kept by applying one change at a time: a
 * change rebuilds that service's records and renames only within its instance-name
 * groups (the one it left and the one it joined), so the cost of a change is the size of
 * its group, not of the catalog.
 */
export class CatalogRecords {
  private readonly entries = new Map<string, Entry>();
  private readonly groups = new Map<string, Service[]>();
  /** Services left out because their records cannot be encoded. */
  private readonly unencodable = new Set<string>();

  constructor(private readonly domain: string) {}

  /** Services on the LAN (those whose records encode). */
  get size(): number {
    return this.entries.size - this.unencodable.size;
  }

  get problemCount(): number {
    return this.unencodable.size;
  }

  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Every group served now, for a responder that just opened. */
  *served(): Generator<ServiceRecords> {
    for (const entry of this.entries.values()) if (entry.records) yield entry.records;
  }

  /** True when `service` (this very object) is what is held for its id: nothing to do. */
  holds(service: Service): boolean {
    return this.entries.get(service.service_id)?.service === service;
  }

  /** `service` is what should be announced under `serviceId` now; undefined when nothing should (gone, expired, not active). */
  set(serviceId: string, service: Service | undefined): RecordChanges {
    const changes: RecordChanges = { put: [], removed: [], problems: [] };
    const old = this.entries.get(serviceId);
    if (old && old.service === service) return changes;
    if (!old && !service) return changes;
    const touched = new Set<string>();
    if (old) {
      this.leave(old);
      touched.add(old.group);
    }
    if (service) {
      const group = instanceGroup(service);
      this.join(group, service);
      touched.add(group);
    } else if (old) {
      this.entries.delete(serviceId);
      this.unencodable.delete(serviceId);
      if (old.records) changes.removed.push(serviceId);
    }
    for (const group of touched) this.rename(group, serviceId, changes);
    return changes;
  }

  private leave(entry: Entry): void {
    const members = this.groups.get(entry.group) ?? [];
    const index = members.findIndex((member) => member.service_id === entry.service.service_id);
    if (index >= 0) members.splice(index, 1);
    if (members.length === 0) this.groups.delete(entry.group);
  }

  private join(group: string, service: Service): void {
    const members = this.groups.get(group);
    // Most groups hold one service: an array of exactly one (an empty array grown by one
    // reserves room for 17, ~100 bytes a service more at 100,000).
    if (!members) {
      this.groups.set(group, [service]);
      return;
    }
    let index = members.length;
    while (index > 0 && registrationOrder(members[index - 1] as Service, service) > 0) index -= 1;
    members.splice(index, 0, service);
  }

  /** Rebuilds the changed service, and every member of `group` whose name moved. */
  private rename(group: string, changedId: string, changes: RecordChanges): void {
    const members = this.groups.get(group) ?? [];
    members.forEach((service, index) => {
      const name = nameAt(service, index);
      const entry = this.entries.get(service.service_id);
      if (service.service_id !== changedId && entry?.name === name && entry.group === group) return;
      this.rebuild(service, group, name, entry, changes);
    });
  }

  private rebuild(service: Service, group: string, name: string, previous: Entry | undefined, changes: RecordChanges): void {
    const id = service.service_id;
    const records = serviceRecords(service, name, this.domain);
    const problem = recordsProblem(records);
    this.entries.set(id, { service, group, name, records: problem ? null : records, problem });
    if (problem) this.unencodable.add(id);
    else this.unencodable.delete(id);
    if (problem) {
      if (previous?.records) changes.removed.push(id);
      if (previous?.problem !== problem) changes.problems.push({ serviceId: id, problem });
    } else if (!previous?.records || !sameRecords(previous.records, records)) {
      changes.put.push(records);
    }
  }
}
