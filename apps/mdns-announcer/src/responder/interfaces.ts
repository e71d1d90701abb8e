import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface MdnsInterface {
  name: string;
  address: string;
  netmask: string;
}

/** Every non-loopback IPv4 interface (MDNS_INTERFACE's default). */
export function ipv4Interfaces(): MdnsInterface[] {
  return Object.entries(networkInterfaces()).flatMap(([name, entries]) =>
    (entries ?? [])
      .filter((entry) => entry.family === 'IPv4' && !entry.internal)
      .map((entry) => ({ name, address: entry.address, netmask: entry.netmask })),
  );
}

/**
 * The interfaces `MDNS_INTERFACE` names (interface names or their IPv4 addresses), or
 * every non-loopback IPv4 one. Unknown entries are an error that lists what exists.
 */
export function chooseInterfaces(wanted: readonly string[]): { interfaces: MdnsInterface[]; unknown: string[]; available: MdnsInterface[] } {
  const available = ipv4Interfaces();
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

const toNumber = (address: string): number =>
  address.split('.').reduce((value, part) => ((value << 8) | Number(part)) >>> 0, 0);

export function inSubnet(address: string, iface: MdnsInterface): boolean {
  if (!isIPv4(address)) return false;
  const mask = toNumber(iface.netmask);
  return (toNumber(address) & mask) === (toNumber(iface.address) & mask);
}
