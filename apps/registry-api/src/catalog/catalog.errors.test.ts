import { HTTP_STATUS_OF_KIND, type DomainError } from '@beacon/platform';
import { describe, expect, it } from 'vitest';
import {
  IdentityTaken,
  InstanceNotFound,
  InvalidSnapshotCursor,
  NothingToCheck,
  ProberTimeout,
  ProberUnavailable,
  ServiceExpired,
  ServiceNotFound,
} from './catalog.errors';

/** The status and `detail` each refusal had when the domain still threw Nest HTTP exceptions. */
const CASES: [DomainError, number, string][] = [
  [new ServiceNotFound('s1'), 404, 'Service s1 not found'],
  [new InstanceNotFound('api', 'i1'), 404, 'Instance "i1" of service "api" is not registered; register it again'],
  [new ServiceExpired('s1'), 409, 'Service s1 has expired; send a heartbeat or register again to bring it back'],
  [new IdentityTaken('another service (s2) is already registered'), 409, 'Cannot update: another service (s2) is already registered'],
  [new NothingToCheck('s1'), 409, 'Service s1 has no health_check_url or health_check_tcp to check'],
  [new ProberUnavailable('No health-prober is running to check the service; start one'), 503, 'No health-prober is running to check the service; start one'],
  [new ProberTimeout('s1'), 504, 'health-prober did not answer in time for service s1'],
  [new InvalidSnapshotCursor('"x" is not a snapshot cursor'), 400, '"x" is not a snapshot cursor'],
];

describe('catalog refusals', () => {
  it.each(CASES)('%o leaves HTTP with its status and detail', (error, status, detail) => {
    expect(HTTP_STATUS_OF_KIND[error.kind]).toBe(status);
    expect(error.message).toBe(detail);
    expect(error.name).toBe(error.constructor.name);
  });
});
