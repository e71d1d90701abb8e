import type { NodeRole } from './events';

/** JetStream KV bucket holding the `server` lease (node-role-elector, NATS backend). */
export const ELECTION_BUCKET = 'beacon_election';
export const SERVER_LEASE_KEY = 'server';

/** DNS-SD type a `server` node announces (node-role-elector, mDNS backend). */
export const SERVER_MDNS_TYPE = '_beacon-server._tcp';

/** A server one node knows of (seed 001's `/discovery`). */
export interface DiscoveredServer {
  host: string;
  port: number;
  node_id: string;
  mode: NodeRole;
  last_seen: string;
}

/** `beacon.elector.status` and `GET /discovery` (seed 001's JSON, plus Beacon's fields). */
export interface ElectorStatus {
  v: 1;
  node_id: string;
  /** `undecided` until the first election ends. */
  mode: NodeRole | 'undecided';
  backend: 'nats' | 'mdns' | 'forced';
  /** The server this node follows (itself when it is the server). */
  server: { node_id: string; host: string; port: number } | null;
  fencing_token: number | null;
  discovered_servers: Record<string, DiscoveredServer>;
  /** When this node took its current role (ISO 8601), or null while undecided. */
  role_since: string | null;
}
