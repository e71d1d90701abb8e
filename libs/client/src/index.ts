/**
 * `@beacon/client`: Beacon's TypeScript SDK (docs/sdk.md). Browser-safe: `fetch` only, no
 * Node built-ins at module level, and only types from `@beacon/contracts`.
 */
export { BeaconError, codeForStatus, isBeaconError, type BeaconErrorCode, type BeaconErrorInit } from './errors';
export { buildQuery, type Query, type QueryValue } from './http';
export {
  Beacon,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_URL,
  type BeaconOptions,
  type IncidentQuery,
  type RegisterRequest,
  type ServiceFilter,
  type UpdateRequest,
  type WebSocketClass,
  type WebhookCreate,
} from './beacon';
export { Registration, type RegisterOptions, type RegistrationEvents, type RegistrationState } from './registration';
export * from './watch';
export type { WebSocketConstructor, WebSocketLike } from './live-socket';

export const CLIENT_VERSION = '0.1.0';

export type {
  DiscoverResponse,
  HealthCheckEntry,
  HealthChecksResponse,
  HealthState,
  HeartbeatResponse,
  Incident,
  IncidentKind,
  IncidentList,
  IncidentStatus,
  LatencySummary,
  PingsResponse,
  ProbeResult,
  RegistryHealthResponse,
  RegistryStatsResponse,
  Service,
  ServiceListResponse,
  ServiceStatus,
  UptimeResponse,
  UptimeWindow,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEventType,
  WebhookFormat,
  WebhookList,
} from '@beacon/contracts';
