import { REPO_ROOT } from '@beacon/testing';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * The launcher's NATS secrets (scripts/lib/nats-auth.mjs): what an earlier start, or
 * someone else, left in the data directory is kept only when it is still private and
 * strong; a secrets directory of another user stops the start.
 */
interface NatsAuth {
  prepareLocalNats(natsDir: string, listen: { host: string; port: number }): { configPath: string };
  passwordFile(natsDir: string, identity: string): string;
}

let auth: NatsAuth;
let natsDir: string;

beforeAll(async () => {
  auth = (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'lib', 'nats-auth.mjs')).href)) as NatsAuth;
});

afterEach(() => rmSync(natsDir, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;
const prepare = (): { configPath: string } => auth.prepareLocalNats(natsDir, { host: '127.0.0.1', port: 4222 });

describe('the launcher NATS secrets', () => {
  it('writes private passwords once and keeps them across starts', () => {
    natsDir = mkdtempSync(join(tmpdir(), 'beacon-secrets-'));
    const { configPath } = prepare();
    const file = auth.passwordFile(natsDir, 'registry-api');
    const first = readFileSync(file, 'utf8');
    expect(first.trim().length).toBeGreaterThanOrEqual(24);
    expect([mode(file), mode(configPath), mode(join(natsDir, 'secrets'))]).toEqual([0o600, 0o600, 0o700]);
    prepare();
    expect(readFileSync(file, 'utf8')).toBe(first);
  });

  it('makes a password file others could read private again, and replaces a short one', () => {
    natsDir = mkdtempSync(join(tmpdir(), 'beacon-secrets-'));
    prepare();
    const loose = auth.passwordFile(natsDir, 'ttl-reaper');
    chmodSync(loose, 0o644);
    const planted = auth.passwordFile(natsDir, 'beacon-reader');
    writeFileSync(planted, 'a\n');
    chmodSync(join(natsDir, 'secrets'), 0o777);
    const { configPath } = prepare();
    expect(mode(loose)).toBe(0o600);
    expect(mode(join(natsDir, 'secrets'))).toBe(0o700);
    const replaced = readFileSync(planted, 'utf8').trim();
    expect(replaced.length).toBeGreaterThanOrEqual(24);
    expect(readFileSync(configPath, 'utf8')).toContain(replaced);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses a secrets directory that belongs to another user (who could have planted or can read them)',
    () => {
      natsDir = mkdtempSync(join(tmpdir(), 'beacon-secrets-'));
      const secrets = join(natsDir, 'secrets');
      mkdirSync(secrets);
      chownSync(secrets, 65534, 65534);
      expect(() => prepare()).toThrow(`${secrets} belongs to uid 65534, not to the user starting Beacon (uid 0)`);
      expect(existsSync(auth.passwordFile(natsDir, 'registry-api'))).toBe(false);
    },
  );
});
