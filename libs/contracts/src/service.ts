import type { HealthState, ServiceStatus } from './enums';

/**
 * A service as it appears on the wire: REST bodies, event payloads, snapshots.
 * Field names are seed 000's (snake_case); timestamps are ISO 8601 UTC.
 * `status` is the effective status: a record past `expires_at` reads `expired`.
 */
export interface Service {
  service_id: string;
  name: string;
  type: string;
  host: string;
  port: number;
  protocol: string;
  tags: string[];
  metadata: Record<string, string>;
  version: string | null;
  node_id: string | null;
  instance_id: string | null;
  status: ServiceStatus;
  health: HealthState;
  ttl: number;
  expires_at: string;
  last_heartbeat: string | null;
  created_at: string;
  updated_at: string;
  health_check_url: string | null;
  health_check_tcp: string | null;
  health_check_interval: number;
  health_check_timeout: number;
  health_check_retries: number;
  health_check_rise: number;
  last_health_check: string | null;
  consecutive_health_failures: number;
  /** Last `load_percentage` a health check reported (seed 004), 0.0–1.0. */
  load: number | null;
  mdns_service_type: string;
  mdns_txt_records: Record<string, string>;
  /** Catalog-wide revision of the last change to this record. */
  revision: number;
}
