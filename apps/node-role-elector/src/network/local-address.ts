import { ipv4Interfaces, type MdnsInterface } from '@beacon/mdns';
import { readFileSync } from 'node:fs';

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
 * The address other hosts most likely reach this one at: the default-route interface's,
 * else the first non-loopback IPv4, else loopback.
 */
export function primaryIPv4(
  interfaces: readonly MdnsInterface[] = ipv4Interfaces(),
  routeInterface: string | null = defaultRouteInterface(),
): string {
  return (interfaces.find((iface) => iface.name === routeInterface) ?? interfaces[0])?.address ?? '127.0.0.1';
}
