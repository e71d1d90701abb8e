import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import {
  HEALTH_STATES,
  SERVICE_STATUSES,
  SETTABLE_STATUSES,
  type HealthState,
  type ServiceStatus,
  type SettableStatus,
} from './enums';
import { LIMITS } from './limits';
import { MDNS_SERVICE_TYPE_PATTERN } from './mdns-types';
import {
  IsHostName,
  IsHostPort,
  IsOptionalNotNull,
  IsSingleValue,
  IsStringMap,
  ToInt,
  ToStringList,
} from './validators';

const NOT_BLANK = /\S/;
const NO_COMMA = /^[^,]*$/;
const HTTP_URL = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  allow_underscores: true,
};
/** A TXT string holds 255 bytes; the announcer cuts what still does not fit as key=value. */
const TXT_RECORD_LIMITS = { maxKeys: 32, maxKeyLength: 64, maxValueLength: 255 } as const;

/**
 * `POST /services/register` (seed 000), also the body of a NATS registration.
 * Unknown fields are rejected; omitted fields take Beacon's defaults.
 */
export class RegisterServiceDto {
  @IsString()
  @Length(LIMITS.name.min, LIMITS.name.max)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name!: string;

  @IsOptional()
  @IsString()
  @Length(LIMITS.type.min, LIMITS.type.max)
  @Matches(NOT_BLANK, { message: 'type must not be blank' })
  type?: string;

  @IsString()
  @Length(LIMITS.host.min, LIMITS.host.max)
  @IsHostName()
  host!: string;

  @ToInt()
  @IsInt()
  @Min(LIMITS.port.min)
  @Max(LIMITS.port.max)
  port!: number;

  @IsOptional()
  @IsString()
  @Length(LIMITS.protocol.min, LIMITS.protocol.max)
  protocol?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LIMITS.tags.maxCount)
  @IsString({ each: true })
  @Length(1, LIMITS.tags.maxLength, { each: true })
  @Matches(NO_COMMA, { each: true, message: 'tags must not contain commas (filters use them as separators)' })
  tags?: string[];

  @IsOptional()
  @IsStringMap(LIMITS.metadata)
  metadata?: Record<string, string>;

  /** First-class version (seed 003); falls back to `metadata.version` as seed 000 puts it. */
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.version.max)
  version?: string;

  @IsOptional()
  @IsString()
  @Length(1, LIMITS.nodeId.max)
  node_id?: string;

  /** Seed 004's identity: re-registering the same `(name, instance_id)` updates that record. */
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.instanceId.max)
  instance_id?: string;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(LIMITS.ttl.min)
  @Max(LIMITS.ttl.max)
  ttl?: number;

  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.healthCheckUrl.max)
  @IsUrl(HTTP_URL, { message: 'health_check_url must be an http:// or https:// URL' })
  health_check_url?: string;

  /** For services that speak no HTTP (databases): a TCP connect check. */
  @IsOptional()
  @IsHostPort()
  health_check_tcp?: string;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckInterval.min)
  @Max(LIMITS.healthCheckInterval.max)
  health_check_interval?: number;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckTimeout.min)
  @Max(LIMITS.healthCheckTimeout.max)
  health_check_timeout?: number;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckRetries.min)
  @Max(LIMITS.healthCheckRetries.max)
  health_check_retries?: number;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckRise.min)
  @Max(LIMITS.healthCheckRise.max)
  health_check_rise?: number;

  @IsOptional()
  @IsString()
  @Matches(MDNS_SERVICE_TYPE_PATTERN, {
    message: 'mdns_service_type must look like "_name._tcp" or "_name._udp" (name: 1–15 of a-z, 0-9, -)',
  })
  mdns_service_type?: string;

  @IsOptional()
  @IsStringMap(TXT_RECORD_LIMITS)
  mdns_txt_records?: Record<string, string>;
}

/**
 * `PUT /services/{id}`: a partial update. Absent fields stay; `null` clears the optional
 * ones (version, node_id, health checks, …) and is rejected for the rest.
 */
export class UpdateServiceDto {
  @IsOptionalNotNull()
  @IsString()
  @Length(LIMITS.name.min, LIMITS.name.max)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @IsOptionalNotNull()
  @IsString()
  @Length(LIMITS.type.min, LIMITS.type.max)
  @Matches(NOT_BLANK, { message: 'type must not be blank' })
  type?: string;

  @IsOptionalNotNull()
  @IsString()
  @Length(LIMITS.host.min, LIMITS.host.max)
  @IsHostName()
  host?: string;

  @IsOptionalNotNull()
  @ToInt()
  @IsInt()
  @Min(LIMITS.port.min)
  @Max(LIMITS.port.max)
  port?: number;

  @IsOptionalNotNull()
  @IsString()
  @Length(LIMITS.protocol.min, LIMITS.protocol.max)
  protocol?: string;

  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(LIMITS.tags.maxCount)
  @IsString({ each: true })
  @Length(1, LIMITS.tags.maxLength, { each: true })
  @Matches(NO_COMMA, { each: true, message: 'tags must not contain commas (filters use them as separators)' })
  tags?: string[];

  @IsOptionalNotNull()
  @IsStringMap(LIMITS.metadata)
  metadata?: Record<string, string>;

  @IsOptional()
  @IsString()
  @Length(1, LIMITS.version.max)
  version?: string | null;

  @IsOptional()
  @IsString()
  @Length(1, LIMITS.nodeId.max)
  node_id?: string | null;

  @IsOptionalNotNull()
  @ToInt()
  @IsInt()
  @Min(LIMITS.ttl.min)
  @Max(LIMITS.ttl.max)
  ttl?: number;

  /** `inactive` takes a service out of discovery without deregistering it (maintenance). */
  @IsOptionalNotNull()
  @IsIn(SETTABLE_STATUSES)
  status?: SettableStatus;

  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.healthCheckUrl.max)
  @IsUrl(HTTP_URL, { message: 'health_check_url must be an http:// or https:// URL' })
  health_check_url?: string | null;

  @IsOptional()
  @IsHostPort()
  health_check_tcp?: string | null;

  @IsOptionalNotNull()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckInterval.min)
  @Max(LIMITS.healthCheckInterval.max)
  health_check_interval?: number;

  @IsOptionalNotNull()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckTimeout.min)
  @Max(LIMITS.healthCheckTimeout.max)
  health_check_timeout?: number;

  @IsOptionalNotNull()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckRetries.min)
  @Max(LIMITS.healthCheckRetries.max)
  health_check_retries?: number;

  @IsOptionalNotNull()
  @ToInt()
  @IsInt()
  @Min(LIMITS.healthCheckRise.min)
  @Max(LIMITS.healthCheckRise.max)
  health_check_rise?: number;

  @IsOptional()
  @IsString()
  @Matches(MDNS_SERVICE_TYPE_PATTERN, {
    message: 'mdns_service_type must look like "_name._tcp" or "_name._udp" (name: 1–15 of a-z, 0-9, -)',
  })
  mdns_service_type?: string | null;

  @IsOptionalNotNull()
  @IsStringMap(TXT_RECORD_LIMITS)
  mdns_txt_records?: Record<string, string>;
}

/** `PUT /services/{id}/heartbeat?ttl=`. */
export class HeartbeatQueryDto {
  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(LIMITS.ttl.min)
  @Max(LIMITS.ttl.max)
  ttl?: number;
}

/**
 * Catalog filters shared by `GET /services`, `GET /services/discover` (query string)
 * and the body of `POST /services/discover`. `metadata.<key>=<value>` query parameters
 * arrive here as the `metadata` map (see `parseServiceQuery`).
 */
export class ServiceFilterDto {
  @IsOptional()
  @IsSingleValue()
  @IsString()
  @Length(LIMITS.type.min, LIMITS.type.max)
  type?: string;

  /** All must match. */
  @IsOptional()
  @ToStringList()
  @IsArray()
  @ArrayMaxSize(LIMITS.tags.maxCount)
  @IsString({ each: true })
  @Length(1, LIMITS.tags.maxLength, { each: true })
  tags?: string[];

  @IsOptional()
  @IsSingleValue()
  @IsString()
  @Length(LIMITS.protocol.min, LIMITS.protocol.max)
  protocol?: string;

  @IsOptional()
  @IsSingleValue()
  @IsIn(SERVICE_STATUSES, { message: `status must be one of: ${SERVICE_STATUSES.join(', ')}` })
  status?: ServiceStatus;

  @IsOptional()
  @IsSingleValue()
  @IsString()
  @Length(LIMITS.name.min, LIMITS.name.max)
  name?: string;

  @IsOptional()
  @IsSingleValue()
  @IsString()
  @Length(1, LIMITS.version.max)
  version?: string;

  @IsOptional()
  @IsSingleValue()
  @IsIn(HEALTH_STATES, { message: `health must be one of: ${HEALTH_STATES.join(', ')}` })
  health?: HealthState;

  @IsOptional()
  @IsSingleValue()
  @IsString()
  @Length(1, LIMITS.nodeId.max)
  node_id?: string;

  @IsOptional()
  @IsStringMap(LIMITS.metadata)
  metadata?: Record<string, string>;
}

/** Filters plus paging: the query string of `GET /services` and `GET /services/discover`. */
export class ServiceQueryDto extends ServiceFilterDto {
  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(LIMITS.listLimit.min)
  @Max(LIMITS.listLimit.max)
  limit?: number;

  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(0)
  skip?: number;
}

/** Paging alone: the query string of `POST /services/discover` and `GET /services/expired`. */
export class PageQueryDto {
  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(LIMITS.listLimit.min)
  @Max(LIMITS.listLimit.max)
  limit?: number;

  @IsOptional()
  @IsSingleValue()
  @ToInt()
  @IsInt()
  @Min(0)
  skip?: number;
}
