import { describe, expect, it } from 'vitest';
import { BeaconError, codeForStatus, isBeaconError } from './errors';

describe('codeForStatus', () => {
  it('maps each documented status to its code', () => {
    const expected: Record<number, string> = {
      400: 'bad_request',
      413: 'bad_request',
      415: 'bad_request',
      422: 'bad_request',
      401: 'unauthorized',
      403: 'unauthorized',
      404: 'not_found',
      409: 'conflict',
      410: 'gone',
      429: 'rate_limited',
      502: 'unavailable',
      503: 'unavailable',
      504: 'unavailable',
      500: 'server',
      507: 'server',
      418: 'bad_request',
    };
    for (const [status, code] of Object.entries(expected)) expect([status, codeForStatus(Number(status))]).toEqual([status, code]);
  });
});

describe('BeaconError', () => {
  it('carries what a caller branches on, and says it in its message', () => {
    const error = new BeaconError({
      code: 'gone',
      status: 410,
      detail: 'deleted by an operator',
      method: 'PUT',
      path: '/x',
      body: { detail: 'deleted by an operator' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('PUT /x: deleted by an operator');
    expect(error.name).toBe('BeaconError');
    expect(isBeaconError(error)).toBe(true);
    expect(isBeaconError(error, 'not_found', 'gone')).toBe(true);
    expect(isBeaconError(error, 'not_found')).toBe(false);
    expect(isBeaconError(new Error('x'))).toBe(false);
  });
});
