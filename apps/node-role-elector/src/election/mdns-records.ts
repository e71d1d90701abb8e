import { SERVER_MDNS_TYPE } from '@beacon/contracts';
import { enumerationName, instanceLabel } from '@beacon/mdns';
import type { ResponseOutgoingPacket, QueryOutgoingPacket } from 'multicast-dns';

/** Records in the shape `dns-packet` (under multicast-dns) encodes and decodes. */
export type Answer = ResponseOutgoingPacket['answers'][number];
export type Question = QueryOutgoingPacket['questions'][number];

export const DOMAIN = 'local';
/** `_beacon-server._tcp.local` */
export const SERVICE_NAME = `${SERVER_MDNS_TYPE}.${DOMAIN}`;
const SERVICES_ENUMERATION = enumerationName(DOMAIN);

/** What a server announces about itself. */
export interface ServerAnnouncement {
  node_id: string;
  /** This process's random id (our own multicast comes back to us; a namesake is someone else). */
  instance: string;
  /** Host agents point at (may be a name). */
  host: string;
  port: number;
  /** The IPv4 address of the A record: the interface mDNS runs on. */
  address: string;
}

/** A server read from a response; `goodbye` when its records came with TTL 0. */
export interface HeardServer {
  node_id: string;
  instance: string | null;
  host: string;
  port: number;
  goodbye: boolean;
}

/** `<node-id>._beacon-server._tcp.local`; NODE_ID's characters leave only dots for the label rules to change. */
export function instanceName(nodeId: string): string {
  return `${instanceLabel(nodeId)}.${SERVICE_NAME}`;
}

/** `<node-id>.local`, as a host label (letters, digits, hyphens). */
export function hostName(nodeId: string): string {
  return `${nodeId.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63)}.${DOMAIN}`;
}

/** PTR, SRV, TXT and A for one server; `ttl` 0 makes them a goodbye. */
export function serverRecords(server: ServerAnnouncement, ttl: number): { answers: Answer[]; additionals: Answer[] } {
  const instance = instanceName(server.node_id);
  const target = hostName(server.node_id);
  return {
    answers: [{ name: SERVICE_NAME, type: 'PTR', ttl, data: instance }],
    additionals: [
      { name: instance, type: 'SRV', ttl, flush: true, data: { priority: 0, weight: 0, port: server.port, target } },
      {
        name: instance,
        type: 'TXT',
        ttl,
        flush: true,
        data: ['v=1', `node_id=${server.node_id}`, `instance=${server.instance}`, `host=${server.host}`, `port=${server.port}`],
      },
      { name: target, type: 'A', ttl, flush: true, data: server.address },
    ],
  };
}

const lower = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * The record a starting node puts in the authority section of its queries (as RFC 6762
 * probes do): "I may become server". Two nodes starting together see each other's and
 * the higher one waits for the lower, so the lower node id wins a simultaneous start.
 */
export function candidateRecord(candidate: { node_id: string; instance: string }): Answer {
  return {
    name: instanceName(candidate.node_id),
    type: 'TXT',
    ttl: 120,
    data: ['v=1', `node_id=${candidate.node_id}`, `instance=${candidate.instance}`, 'candidate=1'],
  };
}

/** Candidates announced in a query's authority section. */
export function readCandidates(authorities: readonly Answer[]): { node_id: string; instance: string | null }[] {
  const suffix = `.${lower(SERVICE_NAME)}`;
  const candidates: { node_id: string; instance: string | null }[] = [];
  for (const record of authorities) {
    if (record.type !== 'TXT' || !lower(record.name).endsWith(suffix)) continue;
    const pairs = txtPairs(record.data);
    const nodeId = pairs.get('node_id');
    if (nodeId && pairs.get('candidate') === '1') candidates.push({ node_id: nodeId, instance: pairs.get('instance') ?? null });
  }
  return candidates;
}

/** True when a query asks for servers (the type, our instance or host, or service enumeration). */
export function asksForServers(questions: readonly Question[], nodeId: string): boolean {
  const mine = new Set([SERVICE_NAME, instanceName(nodeId), hostName(nodeId)].map(lower));
  return questions.some((question) => {
    const name = lower(question.name);
    const type = String(question.type);
    return mine.has(name) || (name === SERVICES_ENUMERATION && (type === 'PTR' || type === 'ANY'));
  });
}

/** The enumeration answer (`_services._dns-sd._udp.local` → our type), for DNS-SD browsers. */
export function enumerationRecord(ttl: number): Answer {
  return { name: SERVICES_ENUMERATION, type: 'PTR', ttl, data: SERVICE_NAME };
}

function txtPairs(data: unknown): Map<string, string> {
  const pairs = new Map<string, string>();
  const items = Array.isArray(data) ? data : [data];
  for (const item of items) {
    const text = Buffer.isBuffer(item) ? item.toString('utf8') : typeof item === 'string' ? item : '';
    const equals = text.indexOf('=');
    if (equals > 0) pairs.set(text.slice(0, equals).toLowerCase(), text.slice(equals + 1));
  }
  return pairs;
}

/**
 * The servers a response describes. An instance needs its TXT node_id; the host is the
 * TXT host, else the A record of the SRV target, else the sender's address.
 */
export function readServers(records: readonly Answer[], senderAddress: string): HeardServer[] {
  const suffix = `.${lower(SERVICE_NAME)}`;
  const instances = new Map<string, { goodbye: boolean }>();
  for (const record of records) {
    const name = lower(record.name);
    if (record.type === 'PTR' && name === lower(SERVICE_NAME) && typeof record.data === 'string') {
      instances.set(lower(record.data), { goodbye: record.ttl === 0 });
    } else if ((record.type === 'SRV' || record.type === 'TXT') && name.endsWith(suffix) && !instances.has(name)) {
      instances.set(name, { goodbye: record.ttl === 0 });
    }
  }
  const servers: HeardServer[] = [];
  for (const [instance, { goodbye }] of instances) {
    let txt: { data: unknown; ttl: number | undefined } | undefined;
    let srv: { port: number; target: string; ttl: number | undefined } | undefined;
    for (const record of records) {
      if (lower(record.name) !== instance) continue;
      if (record.type === 'TXT') txt = { data: record.data, ttl: record.ttl };
      else if (record.type === 'SRV') srv = { port: record.data.port, target: lower(record.data.target), ttl: record.ttl };
    }
    const pairs = txtPairs(txt?.data);
    const nodeId = pairs.get('node_id');
    if (!nodeId) continue;
    let address: string | undefined;
    for (const record of records) {
      if (srv && record.type === 'A' && lower(record.name) === srv.target) address = record.data;
    }
    const port = Number(pairs.get('port') ?? srv?.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    servers.push({
      node_id: nodeId,
      instance: pairs.get('instance') ?? null,
      host: pairs.get('host') || address || senderAddress,
      port,
      goodbye: goodbye || txt?.ttl === 0 || srv?.ttl === 0,
    });
  }
  return servers;
}
