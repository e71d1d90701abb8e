import { IsSingleValue, ToInt } from '@beacon/contracts';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';

/** Windows one overview bar holds at most: a day of 5-minute windows. */
export const OVERVIEW_WINDOWS = { default: 90, max: 288 } as const;

/** Pings one page shows by default. */
export const PINGS_DEFAULT_LIMIT = 100;

const instant = (field: string): PropertyDecorator =>
  IsISO8601({ strict: true }, { message: `${field} must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z` });

/** `GET /api/v1/services/{id}/uptime?from=&to=`. */
export class UptimeQueryDto {
  @IsOptional()
  @IsSingleValue()
  @instant('from')
  from?: string;

  @IsOptional()
  @IsSingleValue()
  @instant('to')
  to?: string;
}

/** `GET /api/v1/services/{id}/pings?limit=&since=` (the upper bound of limit is BEACON_PINGS_PER_SERVICE, checked by the service). */
export class PingsQueryDto {
  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(100_000)
  limit?: number;

  @IsOptional()
  @IsSingleValue()
  @instant('since')
  since?: string;
}

/** `GET /api/v1/uptime?windows=`. */
export class OverviewQueryDto {
  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(OVERVIEW_WINDOWS.max)
  windows?: number;
}
