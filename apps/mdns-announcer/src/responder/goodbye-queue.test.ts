import { describe, expect, it } from 'vitest';
import type { DnsRecord } from '../records/dns';
import { recordsOf } from '../records/record-index';
import { instanceRecords } from '../records/service-records';
import { GoodbyeQueue } from './goodbye-queue';

/** The records of instance `n` of `_http._tcp.local`, on `port`. */
function group(n: number, port = 8080): DnsRecord[] {
  const target = `host-${n}.local`;
  return recordsOf(
    instanceRecords({
      serviceId: `svc-${n}`,
      serviceType: '_http._tcp.local',
      instance: `web-${n}._http._tcp.local`,
      target,
      port,
      txt: [`n=${n}`],
      addresses: [{ name: target, type: 'A', ttl: 120, class: 'IN', flush: true, data: `10.0.0.${n % 250}` }],
    }),
  );
}

const names = (groups: DnsRecord[][]): string[][] => groups.map((records) => records.map((record) => `${record.name} ${record.type}`));

describe('GoodbyeQueue', () => {
  it('hands groups out oldest first, a limited number at a time', () => {
    const queue = new GoodbyeQueue(100);
    for (let n = 0; n < 12; n += 1) queue.add(`svc-${n}`, group(n));
    const first = queue.take(5);
    expect(first).toEqual([0, 1, 2, 3, 4].map((n) => group(n)));
    expect(queue.size).toBe(7);
    expect(queue.take(100)).toEqual([5, 6, 7, 8, 9, 10, 11].map((n) => group(n)));
    expect(queue.take(5)).toEqual([]);
  });

  it('holds at most its capacity, dropping the oldest groups and saying how many', () => {
    const queue = new GoodbyeQueue(3);
    expect(queue.add('svc-0', group(0))).toBe(0);
    expect(queue.add('svc-1', group(1))).toBe(0);
    expect(queue.add('svc-2', group(2))).toBe(0);
    expect(queue.add('svc-3', group(3))).toBe(1);
    // More records for a group already waiting take no new place.
    expect(queue.add('svc-3', group(3, 9090).slice(1, 2))).toBe(0);
    expect(queue.size).toBe(3);
    const left = queue.take(10);
    expect(left.map((records) => records[0]?.data)).toEqual(['web-1._http._tcp.local', 'web-2._http._tcp.local', 'web-3._http._tcp.local']);
    expect(left[2]).toHaveLength(group(3).length + 1);
  });

  it('forgets the goodbye of every record announced again, under whichever group it waited', () => {
    const queue = new GoodbyeQueue(100);
    queue.add('svc-1', group(1));
    queue.add('svc-2', group(2));
    // svc-1 comes back unchanged: nothing of it is withdrawn.
    queue.cancel(group(1));
    // svc-2's service registers again under a new id on another port: only the old SRV goes.
    const back = group(2, 9090);
    queue.cancel(back);
    expect(names(queue.take(10))).toEqual([['web-2._http._tcp.local SRV']]);
    expect(queue.size).toBe(0);
  });

  it('does not let a dropped group cancel or hold records of another', () => {
    const queue = new GoodbyeQueue(1);
    queue.add('svc-1', group(1));
    expect(queue.add('svc-2', group(2))).toBe(1);
    queue.cancel(group(1));
    expect(queue.take(10)).toEqual([group(2)]);
  });
});
