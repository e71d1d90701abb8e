import type { ServiceStatus } from './enums';
import type { Service } from './service';

/** `GET /services`: the original Beacon's list envelope (docs/compatibility.md, seed 000). */
export interface ServiceListResponse {
  services: Service[];
  total: number;
  /** `skip / limit + 1`, rounded down. */
  page: number;
  page_size: number;
}

/** `GET|POST /services/discover`. */
export interface DiscoverResponse {
  services: Service[];
  total: number;
  filters_applied: Record<string, string>;
  discovery_method: 'api';
}

/** `GET /services/expired`. */
export interface ExpiredListResponse {
  services: Service[];
  total: number;
}

/** `PUT /services/{id}/heartbeat`. */
export interface HeartbeatResponse {
  service_id: string;
  status: ServiceStatus;
  expires_at: string;
  last_heartbeat: string;
  message: 'Heartbeat received successfully';
}

/** `DELETE /services/cleanup`. */
export interface CleanupResponse {
  removed_count: number;
  message: string;
}

export type StatusCounts = { total: number } & Record<ServiceStatus, number>;

/** Answer to `beacon.mdns.status`, shown in `/api/v1/health`. */
export interface MdnsStatus {
  running: boolean;
  registered_services: number;
  domain: string;
  /** `<name> <address>` of each interface answered on (announcers before issue 14 leave it out). */
  interfaces?: string[];
  /** Why nothing is answered, e.g. "no LAN interface"; null while answering. */
  problem?: string | null;
}

/** `GET /api/v1/health` (seed 000's body plus the original's `message`). */
export interface RegistryHealthResponse {
  status: 'healthy' | 'degraded' | 'unhealthy';
  message: string;
  version: string;
  uptime: number;
  timestamp: string;
  services: StatusCounts;
  mdns: MdnsStatus | { running: 'unknown'; registered_services: null; domain: null };
  database: { connected: boolean; ping_ms: number | null; backend: 'sqlite' | 'mongodb' };
  nats: { connected: boolean };
  /** Seed 000's troubleshooting field: this process's resident memory and the records it caches. */
  memory: { used_mb: number; cache_size: number };
}

/** One invalid input field. `field` uses dotted paths (`metadata.rack`, `tags.2`). */
export interface FieldError {
  field: string;
  message: string;
}

/** Every 4xx/5xx body: `detail` is a human sentence (seed 000 clients read it). */
export interface ErrorResponse {
  detail: string;
  errors?: FieldError[];
}
