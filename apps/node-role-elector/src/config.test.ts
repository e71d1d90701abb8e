import { ConfigError } from '@beacon/platform';
import { describe, expect, it } from 'vitest';
import { loadElectorEnv, roleArgument } from './config';

const problems = (env: NodeJS.ProcessEnv, argv: string[] = []): string[] => {
  try {
    loadElectorEnv(env, argv);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('elector configuration', () => {
  it('defaults: NATS lease of 10 s with a 2 s margin, HTTP on 9999, registry port advertised', () => {
    const config = loadElectorEnv({}, []);
    expect(config).toMatchObject({
      ELECTOR_PORT: 9999,
      ELECTION_LEASE_TTL: 10,
      ELECTION_SAFETY_MARGIN: 2000,
      DISCOVERY_BACKEND: 'nats',
      ROLE: 'auto',
      SERVER_ADVERTISE_PORT: 8097,
      useNats: true,
    });
    expect(config.NODE_ID).toMatch(/^.+-\d{10}$/);
  });

  it('reads --role as seed 001 does, over ROLE', () => {
    expect(roleArgument(['--role', 'agent'])).toEqual({ value: 'agent' });
    expect(roleArgument(['--role=server'])).toEqual({ value: 'server' });
    expect(roleArgument([])).toEqual({});
    expect(roleArgument(['--role']).error).toMatch(/needs a value/);
    expect(roleArgument(['--role', 'boss']).error).toMatch(/server or agent/);
    expect(loadElectorEnv({ ROLE: 'server' }, ['--role', 'agent']).ROLE).toBe('agent');
  });

  it('refuses a safety margin that leaves a healthy server no time to refresh', () => {
    expect(problems({ ELECTION_LEASE_TTL: '3', ELECTION_SAFETY_MARGIN: '2000' })[0]).toMatch(/ELECTION_SAFETY_MARGIN/);
    expect(loadElectorEnv({ ELECTION_LEASE_TTL: '3', ELECTION_SAFETY_MARGIN: '500' }, []).ELECTION_SAFETY_MARGIN).toBe(500);
  });

  it('lists every inconsistency at once', () => {
    const found = problems({ SERVER_PORT: '8097', ELECTION_SAFETY_MARGIN: 'soon', MDNS_INTERFACE: 'no-such-interface0' });
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toMatch(/SERVER_PORT is set but SERVER_HOST is not/);
    expect(found.join('\n')).toMatch(/MDNS_INTERFACE names no-such-interface0, which is not an IPv4 interface here; available: /);
    expect(problems({ SERVER_HOST: '10.0.0.1' })[0]).toMatch(/only applies with ROLE=agent/);
  });

  it('uses NATS for the lease, or beside mDNS only when NATS_URL is given', () => {
    expect(loadElectorEnv({ DISCOVERY_BACKEND: 'mdns' }, []).useNats).toBe(false);
    expect(loadElectorEnv({ DISCOVERY_BACKEND: 'mdns', NATS_URL: 'nats://10.0.0.1:4222' }, []).useNats).toBe(true);
    expect(loadElectorEnv({ ROLE: 'agent', SERVER_HOST: '10.0.0.1' }, []).useNats).toBe(false);
  });
});
