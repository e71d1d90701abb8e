import { DomainError } from '@beacon/platform';

export class IncidentNotFound extends DomainError {
  readonly kind = 'not_found';
  constructor(incidentId: string) {
    super(`Incident ${incidentId} not found`);
  }
}

/** Resolving or acknowledging an incident that is already resolved. */
export class IncidentAlreadyResolved extends DomainError {
  readonly kind = 'conflict';
  constructor(incidentId: string, resolvedAt: string) {
    super(`Incident ${incidentId} was already resolved at ${resolvedAt}`);
  }
}

export class IncidentAlreadyAcknowledged extends DomainError {
  readonly kind = 'conflict';
  constructor(incidentId: string, acknowledgedAt: string) {
    super(`Incident ${incidentId} was already acknowledged at ${acknowledgedAt}`);
  }
}
