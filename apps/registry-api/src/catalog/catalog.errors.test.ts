import { HTTP_STATUS_OF_KIND, type DomainError } from '@beacon/platform';
import { describe, expect, it } from 'vitest';
import * as refusals from './catalog.errors';

/** The status and `detail` each refusal had when the domain still threw Nest HTTP exceptions. */
const CASES: [DomainError, number, string][] = [
  [new refusals.ServiceNotFound('s1'), 404, 'Service s1 not found'],
  [new refusals.InstanceNotFound('api', 'i1'), 404, 'Instance "i1" of service "api" is not registered; register it again'],
  [new refusals.ServiceExpired('s1'), 409, 'Service s1 has expired; send a heartbeat or register again to bring it back'],
  [
    new refusals.IdentityTaken('another service (s2) is already registered'),
    409,
    'Cannot update: another service (s2) is already registered',
  ],
  [new refusals.NothingToCheck('s1'), 409, 'Service s1 has no health_check_url or health_check_tcp to check'],
  [
    new refusals.ProberUnavailable('No health-prober is running to check the service; start one'),
    503,
    'No health-prober is running to check the service; start one',
  ],
  [new refusals.ProberTimeout('s1'), 504, 'health-prober did not answer in time for service s1'],
  [new refusals.InvalidSnapshotCursor('"x" is not a snapshot cursor'), 400, '"x" is not a snapshot cursor'],
];

describe('catalog refusals', () => {
  it.each(CASES)('%o leaves HTTP with its status and detail', (error, status, detail) => {
    expect(HTTP_STATUS_OF_KIND[error.kind]).toBe(status);
    expect(error.message).toBe(detail);
    expect(error.name).toBe(error.constructor.name);
  });
});
