import type { DiscoveryInstance, DiscoveryRegisterDto, RegisterServiceDto, Service } from '@beacon/contracts';

/**
 * Seed 004's view of a catalog record (pure): its `health_endpoint` path and the URL it
 * becomes, what "healthy" means for `/v1/discovery/services/{name}/healthy`, and the
 * instance object the `/v1/discovery` routes answer with.
 */

/** `host` as it goes into a URL: an IPv6 address in brackets (once). */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The URL health-prober checks for a seed 004 `health_endpoint`: `http://host:port` + path. */
export function healthEndpointUrl(host: string, port: number, path: string): string {
  return `http://${urlHost(host)}:${port}${path}`;
}

/**
 * The `health_endpoint` path back from a record's `health_check_url`, when the URL is
 * `http://host:port/...` of the record itself; null otherwise (no check, a TCP check, or
 * a URL elsewhere, as `/api/v1` allows).
 */
export function healthEndpointOf(service: Pick<Service, 'host' | 'port' | 'health_check_url'>): string | null {
  const url = service.health_check_url;
  if (url === null) return null;
  const origin = `http://${urlHost(service.host)}:${service.port}`;
  return url.startsWith(`${origin}/`) ? url.slice(origin.length) : null;
}

/**
 * The registration a seed 004 body stands for: identity `(service_name, instance_id)`,
 * an HTTP check when it names a `health_endpoint`; the rest takes Beacon's defaults
 * (type `http`, TTL `BEACON_DEFAULT_TTL`, check interval `BEACON_HEALTH_CHECK_INTERVAL`).
 */
export function registrationOf(input: DiscoveryRegisterDto): RegisterServiceDto {
  const registration: RegisterServiceDto = {
    name: input.service_name,
    instance_id: input.instance_id,
    host: input.host,
    port: input.port,
  };
  if (input.metadata) registration.metadata = input.metadata;
  if (input.health_endpoint) registration.health_check_url = healthEndpointUrl(input.host, input.port, input.health_endpoint);
  return registration;
}

type HealthFields = Pick<Service, 'status' | 'health' | 'health_check_url' | 'health_check_tcp' | 'consecutive_health_failures' | 'load'>;

/**
 * Healthy in seed 004's sense: active (not expired, inactive or unhealthy), and, when it
 * has a health check, its last check passed with `healthy` (a `degraded` answer is not)
 * and the load it reported is under the critical threshold. An instance without a check
 * is healthy while active: heartbeats keep it alive and there is no check to fail. One
 * with a check counts only once a check has passed (health `unknown` until then).
 */
export function isHealthyInstance(service: HealthFields, criticalLoad: number): boolean {
  if (service.status !== 'active') return false;
  if (service.health_check_url === null && service.health_check_tcp === null) return true;
  if (service.health !== 'healthy' || service.consecutive_health_failures > 0) return false;
  return service.load === null || service.load < criticalLoad;
}

/** A record (wire form) as a seed 004 instance; null for one without an instance_id. */
export function toInstance(service: Service, criticalLoad: number): DiscoveryInstance | null {
  if (service.instance_id === null) return null;
  return {
    service_id: service.service_id,
    service_name: service.name,
    instance_id: service.instance_id,
    host: service.host,
    port: service.port,
    health_endpoint: healthEndpointOf(service),
    health_check_url: service.health_check_url,
    metadata: service.metadata,
    status: service.status,
    health: service.health,
    healthy: isHealthyInstance(service, criticalLoad),
    load_percentage: service.load,
    registered_at: service.created_at,
    updated_at: service.updated_at,
    last_heartbeat: service.last_heartbeat,
    last_health_check: service.last_health_check,
    expires_at: service.expires_at,
    ttl: service.ttl,
  };
}
