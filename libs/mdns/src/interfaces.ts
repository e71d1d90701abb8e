import { env } from '@beacon/platform';
import { isIPv4 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface MdnsInterface {
  name: string;
  address: string;
  netmask: string;
}

/** `MDNS_INTERFACE`, declared once for every app that speaks mDNS. */
export const mdnsInterfaceEnv = {
  MDNS_INTERFACE: env.list({
    doc: 'interfaces for mDNS, by name or IPv4 address, comma-separated (default: every non-loopback IPv4 interface)',
    default: [],
  }),
};

/** Every non-loopback IPv4 interface (MDNS_INTERFACE's default), one entry per address. */
export function ipv4Interfaces(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): MdnsInterface[] {
  return Object.entries(interfaces).flatMap(([name, entries]) =>
    (entries ?? [])
      .filter((entry) => entry.family === 'IPv4' && !entry.internal)
      .map((entry) => ({ name, address: entry.address, netmask: entry.netmask })),
  );
}

export interface InterfaceChoice {
  /** In the order MDNS_INTERFACE lists them (an interface name brings each of its addresses). */
  interfaces: MdnsInterface[];
  /** Entries that match no non-loopback IPv4 interface. */
  unknown: string[];
  available: MdnsInterface[];
}

/** The interfaces `MDNS_INTERFACE` names (interface names or their IPv4 addresses), or every available one. */
export function chooseInterfaces(wanted: readonly string[], available: MdnsInterface[] = ipv4Interfaces()): InterfaceChoice {
  if (wanted.length === 0) return { interfaces: available, unknown: [], available };
  const interfaces: MdnsInterface[] = [];
  const unknown: string[] = [];
  for (const entry of wanted) {
    const matches = available.filter((iface) => iface.name === entry || iface.address === entry);
    if (matches.length === 0) unknown.push(entry);
    for (const match of matches) if (!interfaces.includes(match)) interfaces.push(match);
  }
  return { interfaces, unknown, available };
}

export const NO_MDNS_INTERFACE = 'no non-loopback IPv4 interface to answer mDNS on: set MDNS_INTERFACE';

/** The entries MDNS_INTERFACE names that do not exist, with what does; null when all exist. */
export function unknownInterfaceProblem(choice: InterfaceChoice): string | null {
  if (choice.unknown.length === 0) return null;
  const known = choice.available.map((iface) => `${iface.name} (${iface.address})`).join(', ') || 'none';
  return `MDNS_INTERFACE names ${choice.unknown.join(', ')}, which is not an IPv4 interface here; available: ${known}`;
}

/** What is wrong with a choice; null when mDNS has somewhere to run. */
export function interfaceProblem(choice: InterfaceChoice): string | null {
  return unknownInterfaceProblem(choice) ?? (choice.interfaces.length === 0 ? NO_MDNS_INTERFACE : null);
}

const toNumber = (address: string): number => address.split('.').reduce((value, part) => ((value << 8) | Number(part)) >>> 0, 0);

export function inSubnet(address: string, iface: MdnsInterface): boolean {
  if (!isIPv4(address)) return false;
  const mask = toNumber(iface.netmask);
  return (toNumber(address) & mask) === (toNumber(iface.address) & mask);
}

/** What changed between two polls of the chosen interfaces. */
export interface InterfaceChanges {
  added: MdnsInterface[];
  removed: MdnsInterface[];
  /** The same interface with another address (DHCP renewed elsewhere, an address edited). */
  moved: { from: MdnsInterface; to: MdnsInterface }[];
}

const sameInterface = (a: MdnsInterface, b: MdnsInterface): boolean =>
  a.name === b.name && a.address === b.address && a.netmask === b.netmask;

/**
 * The difference between two choices. A name that lost one address and gained another is a
 * move, so its records can follow the address instead of being withdrawn and announced anew.
 */
export function diffInterfaces(previous: readonly MdnsInterface[], next: readonly MdnsInterface[]): InterfaceChanges {
  const removed = previous.filter((old) => !next.some((current) => sameInterface(old, current)));
  const added = next.filter((current) => !previous.some((old) => sameInterface(old, current)));
  const moved: InterfaceChanges['moved'] = [];
  for (const from of [...removed]) {
    const to = added.find((candidate) => candidate.name === from.name);
    if (!to) continue;
    moved.push({ from, to });
    removed.splice(removed.indexOf(from), 1);
    added.splice(added.indexOf(to), 1);
  }
  return { added, removed, moved };
}

export const hasChanges = (changes: InterfaceChanges): boolean => changes.added.length + changes.removed.length + changes.moved.length > 0;

/** Why nothing is answered on the LAN (shown in health), or null while some interface is up. */
export function noInterfaceReason(choice: InterfaceChoice): string | null {
  if (choice.interfaces.length > 0) return null;
  return choice.unknown.length > 0 ? `no LAN interface: waiting for ${choice.unknown.join(', ')}` : 'no LAN interface';
}
