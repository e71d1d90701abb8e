import { IsOptional, IsString, Length, Matches } from 'class-validator';
import type { HealthState, ServiceStatus } from './enums';
import { LIMITS } from './limits';
import { Field, rules } from './service.dto';

/**
 * Seed 004's compatibility routes under `/v1/discovery` (registry-api). The same records
 * as `/api/v1/services`, addressed by `(service_name, instance_id)` and shown in seed
 * 004's words. Bodies reuse the registration rules of `service.dto.ts` field by field.
 */

/** A path (and query) on the instance itself, `/health` or `/status?full=1`: RFC 3986 characters, no fragment. */
const HEALTH_ENDPOINT = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;

const healthEndpoint = (): PropertyDecorator =>
  rules(
    IsString(),
    Length(1, LIMITS.healthEndpoint.max),
    Matches(HEALTH_ENDPOINT, {
      message: 'health_endpoint must be a path starting with "/" (it is probed at http://host:port + path)',
    }),
  );

/**
 * `POST /v1/discovery/register`. Required: `service_name`, `instance_id`, `host`, `port`.
 * `health_endpoint` (a path) turns on HTTP health checks of `http://host:port<path>`;
 * without it the instance lives by heartbeats alone. Unknown fields are rejected.
 */
export class DiscoveryRegisterDto {
  @Field.name()
  service_name!: string;

  @Field.instanceId()
  instance_id!: string;

  @Field.host()
  host!: string;

  @Field.port()
  port!: number;

  @IsOptional()
  @healthEndpoint()
  health_endpoint?: string;

  @IsOptional()
  @Field.metadata()
  metadata?: Record<string, string>;
}

/** `POST /v1/discovery/heartbeat`. */
export class DiscoveryHeartbeatDto {
  @Field.name()
  service_name!: string;

  @Field.instanceId()
  instance_id!: string;
}

/** One instance as the `/v1/discovery` routes show it. */
export interface DiscoveryInstance {
  /** Beacon's id of the record: `/api/v1/services/{service_id}` is the same instance. */
  service_id: string;
  service_name: string;
  instance_id: string;
  host: string;
  port: number;
  /** The path given at registration; null when there is no health check, or when it is not `http://host:port/...` (set through `/api/v1`). */
  health_endpoint: string | null;
  /** The URL health-prober checks. */
  health_check_url: string | null;
  metadata: Record<string, string>;
  /** Effective status: `active`, `inactive`, `unhealthy` (expired instances are not listed). */
  status: ServiceStatus;
  /** Last observed health: `unknown` until the first check, and for instances without one. */
  health: HealthState;
  /** Whether `/v1/discovery/services/{service_name}/healthy` lists it. */
  healthy: boolean;
  /** Last `load_percentage` a health check reported (0.0–1.0), or null. */
  load_percentage: number | null;
  registered_at: string;
  updated_at: string;
  last_heartbeat: string | null;
  last_health_check: string | null;
  expires_at: string;
  ttl: number;
}

/** `GET /v1/discovery/services`: every live instance, grouped by service name (names sorted). */
export interface DiscoveryServicesResponse {
  services: Record<string, DiscoveryInstance[]>;
  total_services: number;
  total_instances: number;
}

/** `GET /v1/discovery/services/{service_name}` and `.../healthy`. */
export interface DiscoveryInstancesResponse {
  service_name: string;
  instances: DiscoveryInstance[];
  total: number;
}

/** `POST /v1/discovery/heartbeat`. */
export interface DiscoveryHeartbeatResponse {
  message: 'Heartbeat received successfully';
  service_id: string;
  service_name: string;
  instance_id: string;
  status: ServiceStatus;
  expires_at: string;
  last_heartbeat: string;
}

/** `DELETE /v1/discovery/unregister/{service_name}/{instance_id}`. */
export interface DiscoveryUnregisterResponse {
  message: 'Service unregistered successfully';
  service_id: string;
  service_name: string;
  instance_id: string;
}
