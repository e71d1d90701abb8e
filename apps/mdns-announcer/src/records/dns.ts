/** The records the responder serves, in the shape `dns-packet` encodes. */
export type RecordType = 'PTR' | 'SRV' | 'TXT' | 'A' | 'AAAA';

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface DnsRecord {
  name: string;
  type: RecordType;
  ttl: number;
  class: 'IN';
  /** RFC 6762 §10.2 cache-flush: set on records this responder alone owns (not PTR). */
  flush: boolean;
  /**
   * TXT strings are held as text and become bytes only in a packet (`toWire`): a Buffer is
   * a ~100-byte object, and ten per service were 130 MB of mdns-announcer at 100,000 services.
   */
  data: string | SrvData | string[];
}

/** RFC 6762 §10: host records and SRV live 120 s; PTR and TXT 75 minutes. */
export const TTL = { host: 120, srv: 120, ptr: 4500, txt: 4500 } as const;

/** The record as `dns-packet` encodes it (TXT strings as bytes; it would turn them into Buffers in place). */
export function toWire(record: DnsRecord): DnsRecord | (Omit<DnsRecord, 'data'> & { data: Buffer[] }) {
  const { data } = record;
  return Array.isArray(data) ? { ...record, data: data.map((text) => Buffer.from(text, 'utf8')) } : record;
}

/** A stable text form of a record's data, for comparisons (known answers, received as Buffers; changes). */
export function dataKey(record: { type: DnsRecord['type']; data: DnsRecord['data'] | Buffer[] }): string {
  const { data } = record;
  if (Array.isArray(data)) return data.map((part: string | Buffer) => Buffer.from(part).toString('hex')).join('.');
  if (typeof data === 'object') return `${data.priority}/${data.weight}/${data.port}/${data.target.toLowerCase()}`;
  return data.toLowerCase();
}

/** What a goodbye withdraws: owner name, type and data (a goodbye names the exact data). */
export const recordIdentity = (record: DnsRecord): string => `${record.name.toLowerCase()}/${record.type}/${dataKey(record)}`;
