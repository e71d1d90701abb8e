import { DomainError } from '@beacon/platform';

/**
 * The catalog's refusals. Services throw these; the edges map them by kind (HTTP status in
 * the platform's exception filter, a `RequestError` code in `NatsService.serve`). Each
 * message is the `detail` a client reads, word for word what earlier versions answered.
 */

export class ServiceNotFound extends DomainError {
  readonly kind = 'not_found';
  constructor(readonly serviceId: string) {
    super(`Service ${serviceId} not found`);
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
