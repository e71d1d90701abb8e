import { IsBoolean, IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsString, IsUUID, Length, Max, Min, ValidateIf } from 'class-validator';
import { HEALTH_STATES, type HealthState } from './enums';
import { PROBE_OUTCOMES, type ProbeOutcome, type ProbeResult } from './events';
import { LIMITS } from './limits';
import { IsSingleValue, ToInt } from './validators';

/** A `ProbeResult` as registry-api validates it off the wire before applying it. */
export class ProbeResultDto implements ProbeResult {
  @IsUUID()
  service_id!: string;

  @IsIn(['http', 'tcp'])
  kind!: 'http' | 'tcp';

  @IsString()
  @Length(1, LIMITS.healthCheckUrl.max)
  target!: string;

  @IsBoolean()
  ok!: boolean;

  @IsIn(HEALTH_STATES)
  health!: HealthState;

  @IsIn(PROBE_OUTCOMES)
  outcome!: ProbeOutcome;

  @ValidateIf((_object: object, value: unknown) => value !== null)
  @IsInt()
  @Min(100)
  @Max(599)
  status_code!: number | null;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  response_time_ms!: number;

  @ValidateIf((_object: object, value: unknown) => value !== null)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  load!: number | null;

  @ValidateIf((_object: object, value: unknown) => value !== null)
  @IsString()
  @Length(0, 1000)
  error!: string | null;

  @IsISO8601({ strict: true })
  checked_at!: string;

  @IsString()
  @Length(1, 200)
  prober_id!: string;
}

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
