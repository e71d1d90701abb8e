import { describe, expect, it } from 'vitest';
import {
  SERVICE_NAME,
  asksForServers,
  candidateRecord,
  hostName,
  instanceName,
  readCandidates,
  readServers,
  serverRecords,
  type Answer,
} from './mdns-records';

const server = { node_id: 'pi.lan-1672531200', instance: 'abc123', host: '192.168.1.100', port: 8097, address: '192.168.1.100' };

/** What the records look like after dns-packet decodes them: TXT strings become Buffers. */
function asReceived(records: Answer[]): Answer[] {
  return records.map((record) =>
    record.type === 'TXT' ? { ...record, data: (record.data as string[]).map((item) => Buffer.from(item)) } : record,
  );
}

describe('mDNS records of a server', () => {
  it('announces _beacon-server._tcp.local with PTR, SRV, TXT (node_id) and A', () => {
    const { answers, additionals } = serverRecords(server, 15);
    expect(SERVICE_NAME).toBe('_beacon-server._tcp.local');
    expect(answers).toEqual([{ name: SERVICE_NAME, type: 'PTR', ttl: 15, data: instanceName(server.node_id) }]);
    expect(instanceName(server.node_id)).toBe('pi-lan-1672531200._beacon-server._tcp.local');
    expect(additionals.map((record) => record.type)).toEqual(['SRV', 'TXT', 'A']);
    expect(additionals[1]?.type === 'TXT' && additionals[1].data).toContain('node_id=pi.lan-1672531200');
    expect(additionals[2]).toMatchObject({ name: hostName(server.node_id), data: '192.168.1.100' });
  });

  it('reads back what it announces', () => {
    const { answers, additionals } = serverRecords(server, 15);
    expect(readServers(asReceived([...answers, ...additionals]), '10.9.9.9')).toEqual([
      { node_id: server.node_id, instance: 'abc123', host: '192.168.1.100', port: 8097, goodbye: false },
    ]);
  });

  it('takes the host from the A record, then the sender, when TXT has none', () => {
    const records: Answer[] = [
      { name: SERVICE_NAME, type: 'PTR', ttl: 15, data: `x.${SERVICE_NAME}` },
      { name: `x.${SERVICE_NAME}`, type: 'SRV', ttl: 15, data: { port: 9000, target: 'x.local' } },
      { name: `x.${SERVICE_NAME}`, type: 'TXT', ttl: 15, data: ['node_id=x'] },
    ];
    expect(readServers(records, '10.0.0.7')[0]).toMatchObject({ host: '10.0.0.7', port: 9000 });
    records.push({ name: 'x.local', type: 'A', ttl: 15, data: '10.0.0.8' });
    expect(readServers(records, '10.0.0.7')[0]).toMatchObject({ host: '10.0.0.8' });
  });

  it('marks records with TTL 0 as a goodbye', () => {
    const { answers, additionals } = serverRecords(server, 0);
    expect(readServers(asReceived([...answers, ...additionals]), '10.0.0.1')[0]?.goodbye).toBe(true);
  });

  it('ignores instances without a node_id and other service types', () => {
    const records: Answer[] = [
      { name: '_http._tcp.local', type: 'PTR', ttl: 15, data: 'web._http._tcp.local' },
      { name: `y.${SERVICE_NAME}`, type: 'TXT', ttl: 15, data: ['v=1'] },
      { name: `y.${SERVICE_NAME}`, type: 'SRV', ttl: 15, data: { port: 1, target: 'y.local' } },
    ];
    expect(readServers(records, '10.0.0.1')).toEqual([]);
  });

  it('answers queries for the type, its own names and service enumeration, not others', () => {
    expect(asksForServers([{ name: '_beacon-server._tcp.local', type: 'PTR' }], 'n1')).toBe(true);
    expect(asksForServers([{ name: '_Beacon-Server._TCP.local.', type: 'PTR' }], 'n1')).toBe(true);
    expect(asksForServers([{ name: instanceName('n1'), type: 'SRV' }], 'n1')).toBe(true);
    expect(asksForServers([{ name: '_services._dns-sd._udp.local', type: 'PTR' }], 'n1')).toBe(true);
    expect(asksForServers([{ name: '_http._tcp.local', type: 'PTR' }], 'n1')).toBe(false);
    expect(asksForServers([{ name: instanceName('n2'), type: 'SRV' }], 'n1')).toBe(false);
  });

  it('a starting node’s candidate record reads back from a query’s authority section, and is not a server', () => {
    const record = candidateRecord({ node_id: 'n1', instance: 'i1' });
    expect(readCandidates(asReceived([record]))).toEqual([{ node_id: 'n1', instance: 'i1' }]);
    expect(readCandidates(asReceived(serverRecords(server, 15).additionals))).toEqual([]);
  });
});
