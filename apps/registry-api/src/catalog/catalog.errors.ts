import { DomainError } from '@beacon/platform';
import { GoneException } from '@nestjs/common';
import type { Tombstone } from '../store/service-store';

/**
 * The catalog's refusals. Services throw these; the edges map them by kind (HTTP status in
 * the platform's exception filter, a `RequestError` code in `NatsService.serve`). Each
 * message is the `detail` a client reads, word for word what earlier versions answered.
 */

export class ServiceNotFound extends DomainError {
  readonly kind = 'not_found';
  /** `deletion`: what a tombstone says of the id, named for the reader (the answer stays 404). */
  constructor(
    readonly serviceId: string,
    deletion?: Tombstone,
  ) {
    super(`Service ${serviceId} not found` + (deletion ? `: it ${deletedBy(deletion)}` : ''));
  }
}

/** How a tombstone's deletion reads in a detail: "was deregistered at <time> by <route>". */
function deletedBy(tombstone: Tombstone): string {
  const route =
    tombstone.reason === 'unregister'
      ? `DELETE /v1/discovery/unregister/${tombstone.name}/${tombstone.instance_id ?? ''}`
      : `DELETE /api/v1/services/${tombstone.service_id}`;
  return `was deregistered at ${new Date(tombstone.deleted_at).toISOString()} by ${route}`;
}

/**
 * A heartbeat for a service an operator deleted (it has a tombstone): 410 Gone, so a client
 * stops instead of registering again. Mapped to 410 at the HTTP edge (`goneAtEdge`); its
 * kind says 404 to an edge that does not know it, which is still true.
 */
export class ServiceDeleted extends DomainError {
  readonly kind = 'not_found';
  constructor(readonly tombstone: Tombstone) {
    super(`Service ${tombstone.service_id} (${tombstone.name}) ${deletedBy(tombstone)}; register it again to bring it back`);
  }
}

/** Seed 004's addressing: no record is registered as `(service_name, instance_id)`. */
export class InstanceNotFound extends DomainError {
  readonly kind = 'not_found';
  constructor(serviceName: string, instanceId: string) {
    super(`Instance "${instanceId}" of service "${serviceName}" is not registered; register it again`);
  }
}

/** A status change asked of a record that has expired: only a heartbeat or registration revives it. */
export class ServiceExpired extends DomainError {
  readonly kind = 'conflict';
  constructor(serviceId: string) {
    super(`Service ${serviceId} has expired; send a heartbeat or register again to bring it back`);
  }
}

/** An update would give a record the identity another record holds. */
export class IdentityTaken extends DomainError {
  readonly kind = 'conflict';
  constructor(reason: string) {
    super(`Cannot update: ${reason}`);
  }
}

/** An on-demand check of a service that has nothing to check. */
export class NothingToCheck extends DomainError {
  readonly kind = 'conflict';
  constructor(serviceId: string) {
    super(`Service ${serviceId} has no health_check_url or health_check_tcp to check`);
  }
}

/** health-prober could not check a service on demand (none running, or it could not). */
export class ProberUnavailable extends DomainError {
  readonly kind = 'unavailable';
}

export class ProberTimeout extends DomainError {
  readonly kind = 'timeout';
  constructor(serviceId: string) {
    super(`health-prober did not answer in time for service ${serviceId}`);
  }
}

/** A snapshot cursor the store did not hand out. */
export class InvalidSnapshotCursor extends DomainError {
  readonly kind = 'invalid';
}

/** A new registration while the catalog holds `BEACON_MAX_SERVICES` records. */
export class CatalogFull extends DomainError {
  readonly kind = 'limited';
  constructor(limit: number) {
    super(
      `The catalog is full: it holds ${limit} services (BEACON_MAX_SERVICES). Deregister services or wait for expired ones ` +
        'to be purged; re-registering a service that is already in the catalog still works',
    );
  }
}

/**
 * The HTTP edge's 410 for `ServiceDeleted` (the platform's kinds have no "gone"): a
 * heartbeat route awaits its call through this.
 */
export async function goneAtEdge<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ServiceDeleted) throw new GoneException({ detail: error.message });
    throw error;
  }
}
