import { isReservedMdnsServiceType, mdnsServiceTypeFor, type Service } from '@beacon/contracts';
import { LABEL_MAX, dnsNameProblem, instanceLabel, utf8Cut } from '@beacon/mdns';
import { isIP } from 'node:net';
import { TTL, type DnsRecord, type SrvData } from './dns';

/** A TXT string is a length byte and up to 255 bytes (RFC 6763 §6.1). */
export const TXT_STRING_MAX = 255;
/** RFC 6763 §6.2: keep a TXT record within 1300 bytes so a response fits one packet. */
export const TXT_TOTAL_MAX = 1300;

/** Everything the responder serves for one service, and what it was built from. */
export interface ServiceRecords {
  serviceId: string;
  /** `_http._tcp.local` */
  serviceType: string;
  /** `homegrow-client._http._tcp.local` */
  instance: string;
  /** The SRV target: a synthesized `<name>-<id>.local` for IP hosts, else the host name. */
  target: string;
  ptr: DnsRecord;
  srv: DnsRecord;
  txt: DnsRecord;
  /** A/AAAA for a synthesized target; none when the host is a name (it resolves itself). */
  addresses: DnsRecord[];
}

/** A host label from free text: lowercase letters, digits and hyphens. */
function hostLabel(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'service'
  );
}

/** `homegrow-client-1a2b3c4d.local` for a service registered with an IP address. */
export function synthesizedHost(service: Pick<Service, 'name' | 'service_id'>, domain: string): string {
  const suffix = service.service_id.replaceAll('-', '').slice(0, 8);
  return `${hostLabel(service.name).slice(0, LABEL_MAX - suffix.length - 1)}-${suffix}.${domain}`;
}

/** RFC 6763 §6.4: keys are printable US-ASCII without `=`. */
const VALID_KEY = /^[\x20-\x3c\x3e-\x7e]+$/;

/**
 * The TXT strings: seed 000's keys first (service_id, name, type, protocol, version, tags,
 * description), then metadata, then `mdns_txt_records` (which may override metadata and the
 * descriptive keys, never service_id). Each `key=value` fits 255 bytes: a long value is cut
 * at a character boundary; a key that cannot fit, or is not printable ASCII without `=`, is
 * dropped. Past the seed's keys, entries stop once the record would pass 1300 bytes.
 */
export function txtStrings(service: Service): string[] {
  const core = new Map<string, string>([
    ['service_id', service.service_id],
    ['name', service.name],
    ['type', service.type],
    ['protocol', service.protocol],
  ]);
  if (service.version) core.set('version', service.version);
  if (service.tags.length > 0) core.set('tags', service.tags.join(','));
  const description = service.metadata.description;
  if (description) core.set('description', description);
  const extra = new Map<string, string>();
  for (const [key, value] of Object.entries(service.metadata)) if (!core.has(key)) extra.set(key, value);
  for (const [key, value] of Object.entries(service.mdns_txt_records)) {
    if (key === 'service_id') continue;
    if (core.has(key)) core.set(key, value);
    else extra.set(key, value);
  }
  const strings: string[] = [];
  let total = 0;
  const add = (key: string, value: string, budgeted: boolean): void => {
    if (!VALID_KEY.test(key) || key.length + 1 > TXT_STRING_MAX) return;
    const entry = `${key}=${utf8Cut(value, TXT_STRING_MAX - key.length - 1)}`;
    const bytes = Buffer.byteLength(entry, 'utf8');
    if (budgeted && total + bytes + 1 > TXT_TOTAL_MAX) return;
    strings.push(entry);
    total += bytes + 1;
  };
  for (const [key, value] of core) add(key, value, false);
  for (const [key, value] of extra) add(key, value, true);
  return strings;
}

/** Services that must have distinct instance names: one DNS-SD type, one label (case-insensitive). */
export function instanceGroup(service: Service): string {
  return `${service.mdns_service_type || mdnsServiceTypeFor(service.type)}\u0000${instanceLabel(service.name).toLowerCase()}`;
}

/** Order of registration within a group, so a restart gives the same names. */
export function registrationOrder(a: Service, b: Service): number {
  return a.created_at.localeCompare(b.created_at) || a.service_id.localeCompare(b.service_id);
}

/** The first of a group keeps its name; the others get ` (2)`, ` (3)`, ... within the 63-byte label. */
export function nameAt(service: Service, index: number): string {
  const base = instanceLabel(service.name);
  return index === 0 ? base : `${utf8Cut(base, LABEL_MAX - 6)} (${index + 1})`;
}

/**
 * Instance names that are unique per service type: services sharing a name get
 * `name (2)`, `name (3)`, ... in order of registration, so a restart keeps them.
 */
export function instanceNames(services: readonly Service[]): Map<string, string> {
  const groups = new Map<string, Service[]>();
  for (const service of services) {
    const key = instanceGroup(service);
    const group = groups.get(key) ?? [];
    group.push(service);
    groups.set(key, group);
  }
  const names = new Map<string, string>();
  for (const group of groups.values())
    group.sort(registrationOrder).forEach((service, index) => names.set(service.service_id, nameAt(service, index)));
  return names;
}

/** All records of one service under the instance name it was given. */
/** One string per service type, not one per service (100,000 services share a handful); bounded. */
const serviceTypes = new Map<string, string>();
const SERVICE_TYPES_KEPT = 1_000;

function serviceTypeName(type: string, domain: string): string {
  const key = `${type}.${domain}`;
  const kept = serviceTypes.get(key);
  if (kept !== undefined) return kept;
  if (serviceTypes.size < SERVICE_TYPES_KEPT) serviceTypes.set(key, key);
  return key;
}

export function serviceRecords(service: Service, instanceName: string, domain: string): ServiceRecords {
  const serviceType = serviceTypeName(service.mdns_service_type || mdnsServiceTypeFor(service.type), domain);
  const instance = `${instanceName}.${serviceType}`;
  const family = isIP(service.host);
  const target = family === 0 ? service.host.replace(/\.$/, '') : synthesizedHost(service, domain);
  const addresses: DnsRecord[] =
    family === 0 ? [] : [{ name: target, type: family === 6 ? 'AAAA' : 'A', ttl: TTL.host, class: 'IN', flush: true, data: service.host }];
  return instanceRecords({
    serviceId: service.service_id,
    serviceType,
    instance,
    target,
    port: service.port,
    txt: txtStrings(service),
    addresses,
  });
}

/** PTR, SRV and TXT of one instance, with the address records of its target. */
export function instanceRecords(parts: {
  serviceId: string;
  serviceType: string;
  instance: string;
  target: string;
  port: number;
  txt: string[];
  addresses: DnsRecord[];
}): ServiceRecords {
  const { serviceId, serviceType, instance, target, port, txt, addresses } = parts;
  return {
    serviceId,
    serviceType,
    instance,
    target,
    ptr: { name: serviceType, type: 'PTR', ttl: TTL.ptr, class: 'IN', flush: false, data: instance },
    srv: { name: instance, type: 'SRV', ttl: TTL.srv, class: 'IN', flush: true, data: { priority: 0, weight: 0, port, target } },
    txt: { name: instance, type: 'TXT', ttl: TTL.txt, class: 'IN', flush: true, data: txt },
    addresses,
  };
}

/**
 * Why these records cannot go on the wire, or null. The catalog only holds ports in
 * 1-65535 and valid host names, but the announcer also reads events off NATS: a record the
 * encoder cannot write must be left out, or it would fail every answer it shares a packet with.
 */
export function recordsProblem(records: ServiceRecords): string | null {
  // Refused at registration; a record stored before that rule, or a forged event, must not
  // impersonate the registry (or a node's server) to devices browsing for it.
  if (isReservedMdnsServiceType(records.serviceType)) return `${records.serviceType} is Beacon's own type`;
  const { port, target } = records.srv.data as SrvData;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `port ${port} is outside 0-65535`;
  for (const name of [records.serviceType, records.instance, target, ...records.addresses.map((record) => record.name)]) {
    const problem = dnsNameProblem(name);
    if (problem) return problem;
  }
  return null;
}
