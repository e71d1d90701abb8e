import type { NodeRole } from '@beacon/contracts';

/** A server as agents point at it. */
export interface ServerRef {
  node_id: string;
  host: string;
  port: number;
}

/**
 * What a node is now: its role, the server it follows (itself when server; null when not
 * known yet, e.g. right after stepping down) and the fencing token of that server's tenure.
 * Any change of these is a role change: agents re-point their stack when the server moves.
 */
export interface RoleDecision {
  role: NodeRole;
  server: ServerRef | null;
  /** The lease revision at which the followed server's tenure began; null without a lease (mDNS, pinned). */
  fencingToken: number | null;
}

export function sameDecision(a: RoleDecision | null, b: RoleDecision | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.role === b.role &&
    a.fencingToken === b.fencingToken &&
    a.server?.node_id === b.server?.node_id &&
    a.server?.host === b.server?.host &&
    a.server?.port === b.server?.port
  );
}

/** `http://host:port`, with brackets around an IPv6 address. */
export function serverUrl(server: ServerRef): string {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  return `http://${host}:${server.port}`;
}
