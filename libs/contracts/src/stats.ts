import type { HealthState, ServiceStatus } from './enums';

/**
 * `GET /api/v1/stats` (seed 003's registry statistics): cheap to poll every few seconds.
 * Store-backed numbers are the same on every registry-api replica.
 */
export interface RegistryStatsResponse {
  /** Catalog revision the counts were read at (or after). */
  revision: number;
  services: {
    total: number;
    /** Effective status (past `expires_at` counts as expired); every status present, zero-filled. */
    by_status: Record<ServiceStatus, number>;
    /** Last observed health of every record (expired ones included); every state present, zero-filled. */
    by_health: Record<HealthState, number>;
    /** Records per `type` (only types in use). */
    by_type: Record<string, number>;
  };
  /** Health-check results stored in the check history with `checked_at` in the last 60 s (store-backed). */
  checks_last_minute: number;
  /**
   * Catalog events (`beacon.events.service.*`, from every replica) this replica received
   * over NATS in the last 60 s. Counted in this process's memory: in the first minute
   * after it starts it covers only the time since.
   */
  events_last_minute: number;
  generated_at: string;
}
