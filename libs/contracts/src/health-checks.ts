import { IsBoolean, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import type { ProbeResult } from './events';
import { IsSingleValue, ToInt } from './validators';

/** `beacon.prober.check`: check one service now. */
export class ProberCheckRequest {
  @IsUUID()
  service_id!: string;

  /** Publish the result like a scheduled check (default true). */
  @IsOptional()
  @IsBoolean()
  publish?: boolean;
}

/** One entry of a service's check history (`GET /services/{id}/health-checks`): a result without who and whom. */
export type HealthCheckEntry = Pick<
  ProbeResult,
  'checked_at' | 'kind' | 'health' | 'outcome' | 'status_code' | 'response_time_ms' | 'load' | 'error'
>;

export interface HealthChecksResponse {
  service_id: string;
  /** Newest first. */
  checks: HealthCheckEntry[];
  total: number;
}

/** Bounds of the kept history, and the page size of its route. */
export const HEALTH_HISTORY = {
  perService: 100,
  maxAgeSeconds: 24 * 3600,
  defaultLimit: 20,
} as const;

/** `GET /services/{id}/health-checks?limit=`. */
export class HealthChecksQueryDto {
  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(HEALTH_HISTORY.perService)
  limit?: number;
}
