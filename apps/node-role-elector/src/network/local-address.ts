import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

const ipv4Of = (infos: NetworkInterfaceInfo[] | undefined): NetworkInterfaceInfo | undefined =>
  infos?.find((info) => info.family === 'IPv4');

/**
 * `MDNS_INTERFACE`: an IPv4 address this host has, or an interface name with one.
 * Returns the address, or an error sentence naming what exists.
 */
export function resolveInterface(wanted: string, interfaces: Interfaces = networkInterfaces()): { address: string } | { error: string } {
  if (isIPv4(wanted)) {
    const found = Object.values(interfaces).some((infos) => infos?.some((info) => info.family === 'IPv4' && info.address === wanted));
    return found ? { address: wanted } : { error: `no interface of this host has the address ${wanted}` };
  }
  const byName = ipv4Of(interfaces[wanted]);
  if (byName) return { address: byName.address };
  const names = Object.entries(interfaces)
    .filter(([, infos]) => ipv4Of(infos))
    .map(([name, infos]) => `${name} (${ipv4Of(infos)?.address})`);
  return { error: `no interface named "${wanted}" with an IPv4 address; this host has ${names.join(', ') || 'none'}` };
}

/** The interface of the IPv4 default route, from /proc/net/route (Linux); null elsewhere. */
function defaultRouteInterface(): string | null {
  try {
    const lines = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1);
    let best: { name: string; metric: number } | undefined;
    for (const line of lines) {
      const [name, destination, , , , , metric, mask] = line.trim().split(/\s+/);
      if (!name || destination !== '00000000' || mask !== '00000000') continue;
      const value = Number(metric);
      if (!best || value < best.metric) best = { name, metric: value };
    }
    return best?.name ?? null;
  } catch {
    return null;
  }
}

/**
 * The address other hosts most likely reach this one at: the IPv4 of the default-route
 * interface, else the first non-internal IPv4, else loopback.
 */
export function primaryIPv4(interfaces: Interfaces = networkInterfaces(), routeInterface: string | null = defaultRouteInterface()): string {
  const viaRoute = routeInterface ? ipv4Of(interfaces[routeInterface]) : undefined;
  if (viaRoute && !viaRoute.internal) return viaRoute.address;
  for (const infos of Object.values(interfaces)) {
    const info = infos?.find((candidate) => candidate.family === 'IPv4' && !candidate.internal);
    if (info) return info.address;
  }
  return '127.0.0.1';
}
