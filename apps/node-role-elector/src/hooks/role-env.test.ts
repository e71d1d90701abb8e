import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hookBackoffMs } from './role-hook.runner';
import { envFileContent, quoteEnvValue, roleVariables, writeFileAtomic } from './role-env';

describe('role variables and env file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-role-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a server points at itself and carries its fencing token', () => {
    const variables = roleVariables('pi-1672531200', {
      role: 'server',
      server: { node_id: 'pi-1672531200', host: '192.168.1.100', port: 8097 },
      fencingToken: 42,
    });
    expect(variables).toEqual({
      BEACON_ROLE: 'server',
      BEACON_SERVER_HOST: '192.168.1.100',
      BEACON_SERVER_PORT: '8097',
      BEACON_SERVER_URL: 'http://192.168.1.100:8097',
      BEACON_SERVER_NODE_ID: 'pi-1672531200',
      BEACON_NODE_ID: 'pi-1672531200',
      BEACON_FENCING_TOKEN: '42',
    });
  });

  it('an agent that does not know its server yet gets empty server variables', () => {
    const variables = roleVariables('n2', { role: 'agent', server: null, fencingToken: null });
    expect(variables.BEACON_ROLE).toBe('agent');
    expect(variables.BEACON_SERVER_HOST).toBe('');
    expect(variables.BEACON_SERVER_URL).toBe('');
    expect(variables.BEACON_FENCING_TOKEN).toBe('');
  });

  it('brackets an IPv6 server address in the URL', () => {
    const variables = roleVariables('n', { role: 'agent', server: { node_id: 's', host: 'fd00::1', port: 8097 }, fencingToken: 3 });
    expect(variables.BEACON_SERVER_URL).toBe('http://[fd00::1]:8097');
  });

  it('quotes only what needs quoting, the way sh and compose read it', () => {
    expect(quoteEnvValue('http://10.0.0.1:8097')).toBe('http://10.0.0.1:8097');
    expect(quoteEnvValue('')).toBe('');
    expect(quoteEnvValue('a b')).toBe("'a b'");
    expect(quoteEnvValue("it's $HOME")).toBe("'it'\\''s $HOME'");
    expect(() => quoteEnvValue('a\nb')).toThrow(RangeError);
  });

  it('writes one VAR=value line per variable after a comment', () => {
    expect(envFileContent({ BEACON_ROLE: 'agent', BEACON_SERVER_HOST: '' })).toBe(
      '# written by node-role-elector on every role change; do not edit\nBEACON_ROLE=agent\nBEACON_SERVER_HOST=\n',
    );
  });

  it('replaces the file whole and leaves no temporary file behind', async () => {
    const file = join(dir, 'role.env');
    await writeFileAtomic(file, 'A=1\n');
    await writeFileAtomic(file, 'A=2\n');
    expect(readFileSync(file, 'utf8')).toBe('A=2\n');
    expect(readdirSync(dir)).toEqual(['role.env']);
  });

  it('fails cleanly when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'role.env'), 'A=1\n')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(['role.env']);
  });

  it('retries a failing hook after 1 s, 2 s, 4 s ... up to the cap', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => hookBackoffMs(attempt, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
