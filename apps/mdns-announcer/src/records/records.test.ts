import { MDNS_TYPE_MAP, type Service } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { questionClass } from '../responder/responder';
import { RecordIndex } from './record-index';
import {
  TXT_STRING_MAX,
  TXT_TOTAL_MAX,
  instanceNames,
  recordsProblem,
  serviceRecords,
  synthesizedHost,
  txtStrings,
} from './service-records';

let counter = 0;
const service = (overrides: Partial<Service> = {}): Service => {
  counter += 1;
  return {
    service_id: `0000000${counter}-aaaa-4bbb-8ccc-dddddddddddd`,
    name: 'web',
    type: 'http',
    host: '10.0.0.5',
    port: 8080,
    protocol: 'http',
    tags: ['a', 'b'],
    metadata: { description: 'The web', rack: 'r1' },
    version: '1.2.3',
    mdns_service_type: '_http._tcp',
    mdns_txt_records: {},
    created_at: `2030-01-01T00:00:0${counter % 10}.000Z`,
    ...overrides,
  } as Service;
};

describe('service records', () => {
  it("uses seed 000's type mapping, through mdns_service_type", () => {
    for (const [type, mdnsType] of Object.entries(MDNS_TYPE_MAP)) {
      const records = serviceRecords(service({ type, mdns_service_type: mdnsType }), 'x', 'local');
      expect(records.serviceType).toBe(`${mdnsType}.local`);
      expect(records.ptr).toMatchObject({ name: `${mdnsType}.local`, type: 'PTR', data: `x.${mdnsType}.local`, ttl: 4500, flush: false });
    }
  });

  it('points SRV at a synthesized name with an A record for an IP host, at the name otherwise', () => {
    const byIp = serviceRecords(
      service({ name: 'Homegrow Client!', service_id: 'abcdef12-3456-4789-8abc-def012345678' }),
      'Homegrow Client!',
      'local',
    );
    expect(byIp.target).toBe('homegrow-client-abcdef12.local');
    expect(byIp.srv).toMatchObject({ type: 'SRV', ttl: 120, flush: true, data: { port: 8080, target: 'homegrow-client-abcdef12.local' } });
    expect(byIp.addresses).toEqual([
      { name: 'homegrow-client-abcdef12.local', type: 'A', ttl: 120, class: 'IN', flush: true, data: '10.0.0.5' },
    ]);
    expect(serviceRecords(service({ host: 'fd00::5' }), 'v6', 'local').addresses[0]?.type).toBe('AAAA');
    const byName = serviceRecords(service({ host: 'printer.local.' }), 'p', 'local');
    expect([byName.target, byName.addresses.length]).toEqual(['printer.local', 0]);
    expect(synthesizedHost({ name: '***', service_id: 'ffffffff-0000-4000-8000-000000000000' }, 'lan')).toBe('service-ffffffff.lan');
  });

  it("puts seed 000's TXT keys first, then metadata, then mdns_txt_records", () => {
    const txt = txtStrings(service({ mdns_txt_records: { path: '/ui', name: 'shown-name', service_id: 'spoof' } }));
    expect(txt.slice(0, 7)).toEqual([
      expect.stringMatching(/^service_id=0+\d+-aaaa-/),
      'name=shown-name',
      'type=http',
      'protocol=http',
      'version=1.2.3',
      'tags=a,b',
      'description=The web',
    ]);
    expect(txt.slice(7)).toEqual(['rack=r1', 'path=/ui']);
  });

  it('keeps every TXT string within 255 bytes, cutting values at a character boundary', () => {
    const long = 'é'.repeat(300);
    const txt = txtStrings(service({ metadata: { notes: long, ['k'.repeat(300)]: 'dropped', 'bad=key': 'x', naïve: 'x' } }));
    for (const entry of txt) expect(Buffer.byteLength(entry)).toBeLessThanOrEqual(TXT_STRING_MAX);
    const notes = txt.find((entry) => entry.startsWith('notes='));
    expect(notes).toBeDefined();
    expect(notes?.includes('\uFFFD')).toBe(false);
    expect(Buffer.byteLength(notes ?? '')).toBeGreaterThan(250);
    expect(txt.some((entry) => entry.startsWith('kkk') || entry.startsWith('bad=key') || entry.startsWith('naïve'))).toBe(false);
  });

  it('stops adding metadata once the record would pass 1300 bytes, never dropping the seed keys', () => {
    const metadata = Object.fromEntries(Array.from({ length: 30 }, (_, index) => [`key${index}`, 'v'.repeat(200)]));
    const txt = txtStrings(service({ metadata }));
    const total = txt.reduce((sum, entry) => sum + Buffer.byteLength(entry) + 1, 0);
    expect(total).toBeLessThanOrEqual(TXT_TOTAL_MAX);
    expect(txt.slice(0, 4).map((entry) => entry.split('=')[0])).toEqual(['service_id', 'name', 'type', 'protocol']);
  });

  it('numbers services that share a name, in registration order, per type', () => {
    const first = service({ name: 'api', created_at: '2030-01-01T00:00:01.000Z' });
    const second = service({ name: 'api', created_at: '2030-01-01T00:00:02.000Z' });
    const third = service({ name: 'API', created_at: '2030-01-01T00:00:03.000Z' });
    const otherType = service({ name: 'api', mdns_service_type: '_mqtt._tcp' });
    const names = instanceNames([third, second, otherType, first]);
    expect([
      names.get(first.service_id),
      names.get(second.service_id),
      names.get(third.service_id),
      names.get(otherType.service_id),
    ]).toEqual(['api', 'api (2)', 'API (3)', 'api']);
  });
});

describe('RecordIndex', () => {
  it('answers PTR, SRV, TXT, A and service enumeration, with RFC 6763 additionals', () => {
    const index = new RecordIndex('local');
    const web = serviceRecords(service(), 'web', 'local');
    const broker = serviceRecords(service({ name: 'mq', mdns_service_type: '_mqtt._tcp', host: 'broker.lan' }), 'mq', 'local');
    index.put('web', web);
    index.put('mq', broker);
    expect(index.answer('_HTTP._tcp.local', 'PTR')).toEqual([web.ptr]);
    expect(
      index
        .answer('_services._dns-sd._udp.local', 'PTR')
        .map((record) => record.data)
        .sort(),
    ).toEqual(['_http._tcp.local', '_mqtt._tcp.local']);
    expect(
      index
        .answer(web.instance, 'ANY')
        .map((record) => record.type)
        .sort(),
    ).toEqual(['SRV', 'TXT']);
    expect(index.answer(web.target, 'A')).toEqual(web.addresses);
    expect(new Set(index.additionals([web.ptr]))).toEqual(new Set([web.srv, web.txt, ...web.addresses]));
    index.remove('web');
    expect(index.answer('_http._tcp.local', 'PTR')).toEqual([]);
    expect(index.answer('_services._dns-sd._udp.local', 'PTR').map((record) => record.data)).toEqual(['_mqtt._tcp.local']);
  });
});

describe('queries', () => {
  it('reads the unicast-response (QU) bit dns-packet loses', () => {
    expect(questionClass({ class: 'IN' })).toEqual({ internet: true, unicast: false });
    expect(questionClass({ class: 'UNKNOWN_32769' as 'IN' })).toEqual({ internet: true, unicast: true });
    expect(questionClass({ class: 'CH' })).toEqual({ internet: false, unicast: false });
  });
});

describe('records left off the LAN (stored before the rules, or forged events)', () => {
  it("passes the catalog's own records and names what no packet can carry", () => {
    expect(recordsProblem(serviceRecords(service(), 'web', 'local'))).toBeNull();
    expect(recordsProblem(serviceRecords(service({ host: 'nas.lan' }), 'web', 'local'))).toBeNull();
    expect(recordsProblem(serviceRecords(service({ port: 70_000 }), 'web', 'local'))).toBe('port 70000 is outside 0-65535');
    expect(recordsProblem(serviceRecords(service({ port: 1.5 }), 'web', 'local'))).toContain('outside');
    expect(recordsProblem(serviceRecords(service({ host: `${'x'.repeat(64)}.lan` }), 'web', 'local'))).toContain('64 bytes');
    expect(recordsProblem(serviceRecords(service({ host: 'a..lan' }), 'web', 'local'))).toContain('empty label');
    const long = Array.from({ length: 5 }, () => 'y'.repeat(60)).join('.');
    expect(recordsProblem(serviceRecords(service({ host: long }), 'web', 'local'))).toContain('on the wire');
    expect(recordsProblem(serviceRecords(service({ mdns_service_type: `_${'z'.repeat(70)}._tcp` }), 'web', 'local'))).toContain('bytes');
    for (const reserved of ['_beacon._tcp', '_Beacon._udp', '_beacon-server._tcp']) {
      expect(recordsProblem(serviceRecords(service({ mdns_service_type: reserved }), 'web', 'local'))).toContain("Beacon's own type");
    }
  });
});
