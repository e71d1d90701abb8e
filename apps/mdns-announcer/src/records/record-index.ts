import { enumerationName } from '@beacon/mdns';
import { TTL, type DnsRecord } from './dns';
import type { ServiceRecords } from './service-records';

/** The records one responder serves, by owner name, with the lookups a query needs. */
export class RecordIndex {
  private readonly groups = new Map<string, ServiceRecords>();
  private readonly byName = new Map<string, DnsRecord[]>();
  private readonly typeCounts = new Map<string, { name: string; count: number }>();

  constructor(private readonly domain: string) {}

  get size(): number {
    return this.groups.size;
  }

  get(key: string): ServiceRecords | undefined {
    return this.groups.get(key);
  }

  groupsNow(): ServiceRecords[] {
    return [...this.groups.values()];
  }

  put(key: string, group: ServiceRecords): void {
    this.remove(key);
    this.groups.set(key, group);
    for (const record of recordsOf(group)) this.add(record);
    const type = this.typeCounts.get(group.serviceType.toLowerCase()) ?? { name: group.serviceType, count: 0 };
    type.count += 1;
    this.typeCounts.set(group.serviceType.toLowerCase(), type);
  }

  remove(key: string): ServiceRecords | undefined {
    const group = this.groups.get(key);
    if (!group) return undefined;
    this.groups.delete(key);
    for (const record of recordsOf(group)) this.drop(record);
    const type = this.typeCounts.get(group.serviceType.toLowerCase());
    if (type && --type.count === 0) this.typeCounts.delete(group.serviceType.toLowerCase());
    return group;
  }

  /** The records answering a question (`ANY` included), with DNS-SD enumeration. */
  answer(name: string, type: string): DnsRecord[] {
    const wanted = name.toLowerCase();
    const enumeration = enumerationName(this.domain);
    if (wanted === enumeration.toLowerCase() && (type === 'PTR' || type === 'ANY')) {
      return [...this.typeCounts.values()].map((entry) => ({
        name: enumeration,
        type: 'PTR',
        ttl: TTL.ptr,
        class: 'IN',
        flush: false,
        data: entry.name,
      }));
    }
    return (this.byName.get(wanted) ?? []).filter((record) => type === 'ANY' || record.type === type);
  }

  /** RFC 6763 §12: with a PTR, its SRV, TXT and addresses; with an SRV, its addresses. */
  additionals(answers: readonly DnsRecord[]): DnsRecord[] {
    const extra: DnsRecord[] = [];
    for (const answer of answers) {
      if (answer.type === 'PTR' && typeof answer.data === 'string') {
        for (const record of this.byName.get(answer.data.toLowerCase()) ?? []) {
          extra.push(record);
          if (record.type === 'SRV' && typeof record.data === 'object' && !Array.isArray(record.data)) {
            extra.push(...this.answer(record.data.target, 'ANY').filter((r) => r.type === 'A' || r.type === 'AAAA'));
          }
        }
      } else if (answer.type === 'SRV' && typeof answer.data === 'object' && !Array.isArray(answer.data)) {
        extra.push(...this.answer(answer.data.target, 'ANY').filter((r) => r.type === 'A' || r.type === 'AAAA'));
      }
    }
    return extra.filter((record) => !answers.includes(record));
  }

  private add(record: DnsRecord): void {
    const key = record.name.toLowerCase();
    const list = this.byName.get(key) ?? [];
    list.push(record);
    this.byName.set(key, list);
  }

  private drop(record: DnsRecord): void {
    const key = record.name.toLowerCase();
    const list = (this.byName.get(key) ?? []).filter((entry) => entry !== record);
    if (list.length > 0) this.byName.set(key, list);
    else this.byName.delete(key);
  }
}

export function recordsOf(group: ServiceRecords): DnsRecord[] {
  return [group.ptr, group.srv, group.txt, ...group.addresses];
}
