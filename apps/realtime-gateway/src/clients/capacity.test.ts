import { describe, expect, it } from 'vitest';
import { ConnectionCapacity, RETRY_AFTER_SECONDS, clientAddress, type CapacityReason } from './capacity';

const admitted = (capacity: ConnectionCapacity, address: string): (() => void) => {
  const admission = capacity.admit(address);
  if (!admission.ok) throw new Error(`refused: ${admission.refusal.message}`);
  return admission.release;
};

describe('ConnectionCapacity', () => {
  it('refuses past the per-address cap with 429, and past the total with 503 naming the variable', () => {
    const refused: CapacityReason[] = [];
    const capacity = new ConnectionCapacity({ maxClients: 3, maxPerAddress: 2 }, (reason) => refused.push(reason));
    admitted(capacity, 'a');
    admitted(capacity, 'a');
    const perAddress = capacity.admit('a');
    expect(perAddress).toMatchObject({ ok: false, reason: 'address_full', refusal: { status: 429, retryAfter: RETRY_AFTER_SECONDS } });
    admitted(capacity, 'b');
    const total = capacity.admit('c');
    expect(total).toMatchObject({ ok: false, reason: 'gateway_full', refusal: { status: 503 } });
    expect(!total.ok && total.refusal.message).toContain('GATEWAY_MAX_CLIENTS');
    expect(refused).toEqual(['address_full', 'gateway_full']);
    expect(capacity.size).toBe(3);
  });

  it('gives a slot back once however often it is released, and never goes negative', () => {
    const capacity = new ConnectionCapacity({ maxClients: 2, maxPerAddress: 1 });
    const release = admitted(capacity, 'a');
    release();
    release();
    expect(capacity.size).toBe(0);
    expect(capacity.held('a')).toBe(0);
    admitted(capacity, 'a');
    admitted(capacity, 'b');
    expect(capacity.size).toBe(2);
    expect(capacity.admit('a').ok).toBe(false);
  });

  it('has no per-address cap at 0', () => {
    const capacity = new ConnectionCapacity({ maxClients: 5, maxPerAddress: 0 });
    for (let i = 0; i < 5; i++) admitted(capacity, 'a');
    expect(capacity.admit('a')).toMatchObject({ ok: false, reason: 'gateway_full' });
  });
});

describe('clientAddress', () => {
  const request = (remoteAddress: string | undefined, forwarded?: string | string[]) =>
    ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as Parameters<
      typeof clientAddress
    >[0];

  it('is the peer, an IPv4 peer on a dual-stack socket as plain IPv4', () => {
    expect(clientAddress(request('10.0.0.7'))).toBe('10.0.0.7');
    expect(clientAddress(request('::ffff:10.0.0.7'))).toBe('10.0.0.7');
    expect(clientAddress(request('127.0.0.1'))).toBe('127.0.0.1');
  });

  it("takes X-Forwarded-For's last entry only from nginx on this host", () => {
    expect(clientAddress(request('127.0.0.1', '1.1.1.1, 192.168.1.20'))).toBe('192.168.1.20');
    expect(clientAddress(request('::1', ['1.1.1.1', '2001:db8::5']))).toBe('2001:db8::5');
    expect(clientAddress(request('::ffff:127.0.0.1', '192.168.1.20'))).toBe('192.168.1.20');
    expect(clientAddress(request('10.0.0.7', '192.168.1.20'))).toBe('10.0.0.7');
    expect(clientAddress(request('127.0.0.2', '192.168.1.20'))).toBe('127.0.0.2');
    expect(clientAddress(request('127.0.0.1', 'not-an-address'))).toBe('127.0.0.1');
  });
});
