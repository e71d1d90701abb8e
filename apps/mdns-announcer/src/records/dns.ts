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
  data: string | SrvData | Buffer[];
}

/** RFC 6762 §10: host records and SRV live 120 s; PTR and TXT 75 minutes. */
export const TTL = { host: 120, srv: 120, ptr: 4500, txt: 4500 } as const;

/** A stable text form of a record's data, for comparisons (known answers, changes). */
export function dataKey(record: Pick<DnsRecord, 'type' | 'data'>): string {
  const { data } = record;
  if (Array.isArray(data)) return data.map((buffer) => buffer.toString('hex')).join('.');
  if (typeof data === 'object') return `${data.priority}/${data.weight}/${data.port}/${data.target.toLowerCase()}`;
  return data.toLowerCase();
}

/** What a goodbye withdraws: owner name, type and data (a goodbye names the exact data). */
export const recordIdentity = (record: DnsRecord): string => `${record.name.toLowerCase()}/${record.type}/${dataKey(record)}`;
