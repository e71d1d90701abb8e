import type { Service } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { CatalogRecords } from './catalog-records';
import { instanceNames } from './service-records';

let counter = 0;
const service = (overrides: Partial<Service> = {}): Service => {
  counter += 1;
  return {
    service_id: `${String(counter).padStart(8, '0')}-aaaa-4bbb-8ccc-dddddddddddd`,
    name: 'web',
    type: 'http',
    host: '10.0.0.5',
    port: 8080,
    protocol: 'http',
    tags: [],
    metadata: {},
    version: '1.0.0',
    mdns_service_type: '_http._tcp',
    mdns_txt_records: {},
    created_at: `2030-01-01T00:00:${String(counter % 60).padStart(2, '0')}.000Z`,
    ...overrides,
  } as Service;
};

const instances = (changes: { put: { instance: string }[] }): string[] => changes.put.map((records) => records.instance);

describe('catalog records, applied one change at a time', () => {
  it('names a second service of the same type and name "(2)", and puts only the new one', () => {
    const records = new CatalogRecords('local');
    const first = service();
    const second = service();
    expect(instances(records.set(first.service_id, first))).toEqual(['web._http._tcp.local']);
    expect(instances(records.set(second.service_id, second))).toEqual(['web (2)._http._tcp.local']);
  });

  it('renames as the full rule does when the first goes: the second becomes "web", the third "web (2)"', () => {
    const records = new CatalogRecords('local');
    const [a, b, c] = [service(), service(), service()] as [Service, Service, Service];
    for (const s of [a, b, c]) records.set(s.service_id, s);
    const changes = records.set(a.service_id, undefined);
    expect(changes.removed).toEqual([a.service_id]);
    expect(instances(changes)).toEqual(['web._http._tcp.local', 'web (2)._http._tcp.local']);
    expect(instanceNames([b, c])).toEqual(
      new Map([
        [b.service_id, 'web'],
        [c.service_id, 'web (2)'],
      ]),
    );
  });

  it('leaves other groups alone, and puts nothing when an update changes no record', () => {
    const records = new CatalogRecords('local');
    const web = service();
    const db = service({ name: 'db' });
    records.set(web.service_id, web);
    records.set(db.service_id, db);
    expect(records.set(web.service_id, { ...web, status: 'active', revision: 9 }).put).toEqual([]);
    expect(instances(records.set(web.service_id, { ...web, port: 9090 }))).toEqual(['web._http._tcp.local']);
  });

  it('moves a renamed service between groups, renumbering both (the older one keeps the bare name)', () => {
    const records = new CatalogRecords('local');
    const [a, b, c] = [service(), service(), service({ name: 'api' })] as [Service, Service, Service];
    for (const s of [a, b, c]) records.set(s.service_id, s);
    const changes = records.set(a.service_id, { ...a, name: 'api' });
    expect(instances(changes).sort()).toEqual(['api (2)._http._tcp.local', 'api._http._tcp.local', 'web._http._tcp.local']);
    expect([...records.served()].map((r) => r.instance).sort()).toEqual([
      'api (2)._http._tcp.local',
      'api._http._tcp.local',
      'web._http._tcp.local',
    ]);
  });

  it('matches instanceNames over a shuffled catalog built one change at a time', () => {
    const records = new CatalogRecords('local');
    const all = Array.from({ length: 200 }, (_, i) => service({ name: ['web', 'db', 'api'][i % 3] as string }));
    for (const s of [...all].reverse()) records.set(s.service_id, s);
    for (const s of all.filter((_, i) => i % 7 === 0)) records.set(s.service_id, undefined);
    const kept = all.filter((_, i) => i % 7 !== 0);
    const expected = instanceNames(kept);
    const served = new Map([...records.served()].map((r) => [r.serviceId, r.instance.replace('._http._tcp.local', '')]));
    expect(served).toEqual(expected);
    expect(records.size).toBe(kept.length);
  });

  it('leaves out a service whose records cannot be encoded, reporting it once, and withdraws it', () => {
    const records = new CatalogRecords('local');
    const web = service();
    records.set(web.service_id, web);
    const reserved = { ...web, mdns_service_type: '_beacon._tcp' };
    const changes = records.set(web.service_id, reserved);
    expect(changes).toMatchObject({ put: [], removed: [web.service_id], problems: [{ serviceId: web.service_id }] });
    expect(records.set(web.service_id, { ...reserved }).problems).toEqual([]);
    expect([records.size, records.problemCount]).toEqual([0, 1]);
  });
});
