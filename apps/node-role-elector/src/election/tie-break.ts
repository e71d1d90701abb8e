/** Who wins when two nodes both claim the server role (mDNS): the lower node id. */

export interface Contender {
  node_id: string;
  host: string;
}

/**
 * Orders by node id, byte by byte (the same on every node whatever its locale), then by
 * host for two nodes that share an id (hostname-<second> can collide on cloned hosts).
 */
export function compareContenders(a: Contender, b: Contender): number {
  if (a.node_id !== b.node_id) return a.node_id < b.node_id ? -1 : 1;
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  return 0;
}

/** True when `a` keeps the server role over `b`. */
export function outranks(a: Contender, b: Contender): boolean {
  return compareContenders(a, b) < 0;
}

/** The server everyone should follow among those known: the lowest. */
export function preferredServer<T extends Contender>(servers: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const server of servers) if (best === undefined || outranks(server, best)) best = server;
  return best;
}
