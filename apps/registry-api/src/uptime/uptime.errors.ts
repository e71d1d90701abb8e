import { DomainError } from '@beacon/platform';

/** A query value that is well-formed but out of bounds: the message names the field. */
export class InvalidUptimeQuery extends DomainError {
  readonly kind = 'invalid';
}

export class StatusPageOff extends DomainError {
  readonly kind = 'not_found';
  constructor() {
    super('The status page is turned off (BEACON_STATUS_PAGE=off)');
  }
}
