import { DeliverPolicy } from 'nats';
import { describe, expect, it } from 'vitest';
import { serverFilter, startOptions } from './nats';

describe('startOptions', () => {
  it('starts where asked', () => {
    expect(startOptions()).toEqual({ deliver_policy: DeliverPolicy.New });
    expect(startOptions('all')).toEqual({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
    expect(startOptions({ seq: 42 })).toEqual({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 42 });
    expect(startOptions({ time: '2026-01-02T03:04:05+01:00' })).toEqual({
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: '2026-01-02T02:04:05.000Z',
    });
  });

  it('refuses a position or a time that is none', () => {
    expect(() => startOptions({ seq: 0 })).toThrow(RangeError);
    expect(() => startOptions({ seq: 1.5 })).toThrow(/from.seq/);
    expect(() => startOptions({ time: 'soon' })).toThrow(/from.time/);
  });
});

describe('serverFilter', () => {
  it('filters on the server only for a single subject', () => {
    expect(serverFilter(['beacon.events.service.registered'])).toBe('beacon.events.service.registered');
    expect(serverFilter(['beacon.events.service.registered', 'beacon.events.service.updated'])).toBeUndefined();
  });
});
