import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, IsUrl, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { HEALTH_STATES, SERVICE_STATUSES, SETTABLE_STATUSES, type HealthState, type ServiceStatus, type SettableStatus } from './enums';
import { LIMITS } from './limits';
import { MDNS_SERVICE_TYPE_PATTERN } from './mdns-types';
import {
  IsHostName,
  IsHostPort,
  IsOptionalNotNull,
  IsSingleValue,
  IsStringMap,
  NoControlCharacters,
  NoUrlCredentials,
  NotReservedMdnsType,
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
  // `NoUrlCredentials` says why; this catches what validator.js alone reads as user info.
  disallow_auth: true,
};
/** A TXT string holds 255 bytes; the announcer cuts what still does not fit as key=value. */
const TXT_RECORD_LIMITS = { maxKeys: 32, maxKeyLength: 64, maxValueLength: 255 } as const;

/** Several property decorators as one, so each field's rules are written once. */
export function rules(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, property) => {
    for (const decorator of decorators) decorator(target, property);
  };
}

// `$property`: the message names the field the rule sits on (seed 004's `service_name` reuses `name`'s rules).
const text = (min: number, max: number): PropertyDecorator =>
  rules(IsString(), Length(min, max), Matches(NOT_BLANK, { message: '$property must not be blank' }), NoControlCharacters());

/** An identifier or label: no control characters (they are invisible, and split keys and log lines). */
const label = (max: number): PropertyDecorator => rules(IsString(), Length(1, max), NoControlCharacters());

const integer = (min: number, max: number): PropertyDecorator => rules(ToInt(), IsInt(), Min(min), Max(max));

/**
 * Each registration field's rules, shared by `RegisterServiceDto`, `UpdateServiceDto` and
 * seed 004's `/v1/discovery` bodies (`discovery-v1.ts`), whatever the field is called there.
 */
export const Field = {
  name: () => text(LIMITS.name.min, LIMITS.name.max),
  type: () => text(LIMITS.type.min, LIMITS.type.max),
  host: () => rules(IsString(), Length(LIMITS.host.min, LIMITS.host.max), IsHostName()),
  port: () => integer(LIMITS.port.min, LIMITS.port.max),
  protocol: () => rules(IsString(), Length(LIMITS.protocol.min, LIMITS.protocol.max), NoControlCharacters()),
  tags: () =>
    rules(
      IsArray(),
      ArrayMaxSize(LIMITS.tags.maxCount),
      IsString({ each: true }),
      Length(1, LIMITS.tags.maxLength, { each: true }),
      Matches(NO_COMMA, { each: true, message: 'tags must not contain commas (filters use them as separators)' }),
      NoControlCharacters({ each: true }),
    ),
  metadata: () => IsStringMap(LIMITS.metadata),
  version: () => label(LIMITS.version.max),
  nodeId: () => label(LIMITS.nodeId.max),
  instanceId: () => label(LIMITS.instanceId.max),
  ttl: () => integer(LIMITS.ttl.min, LIMITS.ttl.max),
  healthCheckUrl: () =>
    rules(
      IsString(),
      MaxLength(LIMITS.healthCheckUrl.max),
      NoUrlCredentials(),
      IsUrl(HTTP_URL, { message: 'health_check_url must be an http:// or https:// URL' }),
    ),
  healthCheckTcp: () => IsHostPort(),
  healthCheckInterval: () => integer(LIMITS.healthCheckInterval.min, LIMITS.healthCheckInterval.max),
  healthCheckTimeout: () => integer(LIMITS.healthCheckTimeout.min, LIMITS.healthCheckTimeout.max),
  healthCheckRetries: () => integer(LIMITS.healthCheckRetries.min, LIMITS.healthCheckRetries.max),
  healthCheckRise: () => integer(LIMITS.healthCheckRise.min, LIMITS.healthCheckRise.max),
  mdnsServiceType: () =>
    rules(
      IsString(),
      Matches(MDNS_SERVICE_TYPE_PATTERN, {
        message: 'mdns_service_type must look like "_name._tcp" or "_name._udp" (name: 1–15 of a-z, 0-9, -)',
      }),
      NotReservedMdnsType(),
    ),
  mdnsTxtRecords: () => IsStringMap(TXT_RECORD_LIMITS),
};

/**
 * `POST /services/register` (seed 000), also the body of a NATS registration.
 * Unknown fields are rejected; omitted fields take Beacon's defaults.
 */
export class RegisterServiceDto {
  @Field.name()
  name!: string;

  @IsOptional()
  @Field.type()
  type?: string;

  @Field.host()
  host!: string;

  @Field.port()
  port!: number;

  @IsOptional()
  @Field.protocol()
  protocol?: string;

  @IsOptional()
  @Field.tags()
  tags?: string[];

  @IsOptional()
  @Field.metadata()
  metadata?: Record<string, string>;

  /** First-class version (seed 003); falls back to `metadata.version` as seed 000 puts it. */
  @IsOptional()
  @Field.version()
  version?: string;

  @IsOptional()
  @Field.nodeId()
  node_id?: string;

  /** Seed 004's identity: re-registering the same `(name, instance_id)` updates that record. */
  @IsOptional()
  @Field.instanceId()
  instance_id?: string;

  @IsOptional()
  @Field.ttl()
  ttl?: number;

  @IsOptional()
  @Field.healthCheckUrl()
  health_check_url?: string;

  /** For services that speak no HTTP (databases): a TCP connect check. */
  @IsOptional()
  @Field.healthCheckTcp()
  health_check_tcp?: string;

  @IsOptional()
  @Field.healthCheckInterval()
  health_check_interval?: number;

  @IsOptional()
  @Field.healthCheckTimeout()
  health_check_timeout?: number;

  @IsOptional()
  @Field.healthCheckRetries()
  health_check_retries?: number;

  @IsOptional()
  @Field.healthCheckRise()
  health_check_rise?: number;

  @IsOptional()
  @Field.mdnsServiceType()
  mdns_service_type?: string;

  @IsOptional()
  @Field.mdnsTxtRecords()
  mdns_txt_records?: Record<string, string>;
}

/**
 * `PUT /services/{id}`: a partial update. Absent fields stay; `null` clears the optional
 * ones (version, node_id, health checks, …) and is rejected for the rest.
 */
export class UpdateServiceDto {
  @IsOptionalNotNull()
  @Field.name()
  name?: string;

  @IsOptionalNotNull()
  @Field.type()
  type?: string;

  @IsOptionalNotNull()
  @Field.host()
  host?: string;

  @IsOptionalNotNull()
  @Field.port()
  port?: number;

  @IsOptionalNotNull()
  @Field.protocol()
  protocol?: string;

  @IsOptionalNotNull()
  @Field.tags()
  tags?: string[];

  @IsOptionalNotNull()
  @Field.metadata()
  metadata?: Record<string, string>;

  @IsOptional()
  @Field.version()
  version?: string | null;

  @IsOptional()
  @Field.nodeId()
  node_id?: string | null;

  @IsOptionalNotNull()
  @Field.ttl()
  ttl?: number;

  /** `inactive` takes a service out of discovery without deregistering it (maintenance). */
  @IsOptionalNotNull()
  @IsIn(SETTABLE_STATUSES)
  status?: SettableStatus;

  @IsOptional()
  @Field.healthCheckUrl()
  health_check_url?: string | null;

  @IsOptional()
  @Field.healthCheckTcp()
  health_check_tcp?: string | null;

  @IsOptionalNotNull()
  @Field.healthCheckInterval()
  health_check_interval?: number;

  @IsOptionalNotNull()
  @Field.healthCheckTimeout()
  health_check_timeout?: number;

  @IsOptionalNotNull()
  @Field.healthCheckRetries()
  health_check_retries?: number;

  @IsOptionalNotNull()
  @Field.healthCheckRise()
  health_check_rise?: number;

  @IsOptional()
  @Field.mdnsServiceType()
  mdns_service_type?: string | null;

  @IsOptionalNotNull()
  @Field.mdnsTxtRecords()
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

/** Paging rules, shared by every listing's query string. */
const Paging = {
  limit: () => rules(IsOptional(), IsSingleValue(), integer(LIMITS.listLimit.min, LIMITS.listLimit.max)),
  skip: () => rules(IsOptional(), IsSingleValue(), integer(0, Number.MAX_SAFE_INTEGER)),
};

/** Filters plus paging: the query string of `GET /services` and `GET /services/discover`. */
export class ServiceQueryDto extends ServiceFilterDto {
  @Paging.limit()
  limit?: number;

  @Paging.skip()
  skip?: number;
}

/** Paging alone: the query string of `POST /services/discover` and `GET /services/expired`. */
export class PageQueryDto {
  @Paging.limit()
  limit?: number;

  @Paging.skip()
  skip?: number;
}
