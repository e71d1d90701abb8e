import {
  INCIDENT_KINDS,
  INCIDENT_STATUSES,
  IsSingleValue,
  NoControlCharacters,
  ToInt,
  type IncidentKind,
  type IncidentStatus,
} from '@beacon/contracts';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

/** Incidents one page shows by default and at most. */
export const INCIDENT_PAGE = { default: 50, max: 500 } as const;

/** The longest note an operator may leave on resolve or acknowledge. */
export const NOTE_MAX_LENGTH = 500;

/** `GET /api/v1/incidents`'s query string. */
export class IncidentQueryDto {
  @IsOptional()
  @IsSingleValue()
  @IsIn(INCIDENT_STATUSES, { message: `status must be one of: ${INCIDENT_STATUSES.join(', ')}` })
  status?: IncidentStatus;

  @IsOptional()
  @IsSingleValue()
  @IsUUID(undefined, { message: 'service_id must be a UUID' })
  service_id?: string;

  @IsOptional()
  @IsSingleValue()
  @IsIn(INCIDENT_KINDS, { message: `kind must be one of: ${INCIDENT_KINDS.join(', ')}` })
  kind?: IncidentKind;

  @IsOptional()
  @IsSingleValue()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' })
  since?: string;

  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(INCIDENT_PAGE.max)
  limit?: number;

  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(0)
  skip?: number;
}

/** The optional body of `POST /api/v1/incidents/{id}/resolve` and `/acknowledge`. */
export class IncidentNoteDto {
  @IsOptional()
  @IsString()
  @MaxLength(NOTE_MAX_LENGTH)
  @NoControlCharacters()
  note?: string;
}
