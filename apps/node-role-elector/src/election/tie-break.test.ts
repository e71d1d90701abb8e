import { describe, expect, it } from 'vitest';
import { compareContenders, outranks, preferredServer } from './tie-break';

describe('tie-break between two servers', () => {
  it('the lower node id wins', () => {
    expect(outranks({ node_id: 'alpha-1672531200', host: '10.0.0.9' }, { node_id: 'beta-1672531100', host: '10.0.0.1' })).toBe(true);
    expect(outranks({ node_id: 'beta-1672531100', host: '10.0.0.1' }, { node_id: 'alpha-1672531200', host: '10.0.0.9' })).toBe(false);
  });

  it('compares byte by byte, the same on every node whatever its locale', () => {
    // localeCompare would put "a" before "B"; code units put "B" (66) before "a" (97).
    expect(compareContenders({ node_id: 'B', host: 'x' }, { node_id: 'a', host: 'x' })).toBeLessThan(0);
    expect(compareContenders({ node_id: 'host-10', host: 'x' }, { node_id: 'host-9', host: 'x' })).toBeLessThan(0);
  });

  it('breaks a shared node id by host, and a node never outranks itself', () => {
    expect(outranks({ node_id: 'n', host: '10.0.0.1' }, { node_id: 'n', host: '10.0.0.2' })).toBe(true);
    expect(outranks({ node_id: 'n', host: '10.0.0.1' }, { node_id: 'n', host: '10.0.0.1' })).toBe(false);
  });

  it('everyone follows the lowest of the servers they know', () => {
    const servers = [
      { node_id: 'n3', host: 'c' },
      { node_id: 'n1', host: 'a' },
      { node_id: 'n2', host: 'b' },
    ];
    expect(preferredServer(servers)?.node_id).toBe('n1');
    expect(preferredServer([])).toBeUndefined();
  });
});
