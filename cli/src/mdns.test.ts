import { describe, expect, it } from 'vitest';
import { BEACON_MDNS_TYPE, BeaconAnswers, type MdnsRecord } from './mdns';

const instance = `Beacon.${BEACON_MDNS_TYPE}`;
const beacon: MdnsRecord[] = [
  { name: 'beacon.local', type: 'A', data: '10.0.0.7' },
  { name: instance, type: 'SRV', data: { port: 8097, target: 'beacon.local' } },
  { name: BEACON_MDNS_TYPE, type: 'PTR', data: instance },
];

describe('BeaconAnswers', () => {
  it('finds Beacon from one packet whatever the order of its records', () => {
    expect(new BeaconAnswers().add(beacon)).toEqual({ url: 'http://10.0.0.7:8097', instance });
  });

  it('keeps nothing of a flood of other names, and still finds Beacon after it', () => {
    const answers = new BeaconAnswers();
    for (let i = 0; i < 10_000; i += 1) {
      const found = answers.add([
        { name: `flood-${i}.${BEACON_MDNS_TYPE}`, type: 'SRV', data: { port: 1, target: `t-${i}.local` } },
        { name: `t-${i}.local`, type: 'A', data: '10.0.0.1' },
        { name: `_other-${i}._tcp.local`, type: 'PTR', data: `x-${i}` },
      ]);
      expect(found).toBeUndefined();
    }
    expect(answers.size).toBe(0);
    expect(answers.add(beacon)?.url).toBe('http://10.0.0.7:8097');
  });

  it('keeps at most 32 instances of _beacon._tcp, and skips SRV records of the wrong shape', () => {
    const answers = new BeaconAnswers();
    for (let i = 0; i < 1_000; i += 1) {
      const name = `i-${i}.${BEACON_MDNS_TYPE}`;
      answers.add([
        { name: BEACON_MDNS_TYPE, type: 'PTR', data: name },
        { name, type: 'SRV', data: { port: 'x', target: 5 } },
      ]);
    }
    expect(answers.size).toBe(32);
  });
});
