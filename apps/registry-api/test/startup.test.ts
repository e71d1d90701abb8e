import { REPO_ROOT, freePort, startNatsServer, type NatsServerHandle } from '@beacon/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Start-up failures end the process with one sentence that says what to fix. */
let dir: string;
let plainNats: NatsServerHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'beacon-startup-'));
  plainNats = await startNatsServer({ jetstream: false });
});

afterAll(async () => {
  await plainNats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'apps/registry-api/dist/main.js')], {
    env: { PATH: process.env.PATH, BEACON_SQLITE_PATH: join(dir, 'beacon.db'), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('registry-api start-up', () => {
  it('stops on bad configuration, naming every bad variable', () => {
    const { status, stderr } = run({ BEACON_PORT: '99999', LOG_LEVEL: 'loud', BEACON_DEFAULT_TTL: '5', NATS_URL: 'http://x' });
    expect(status).toBe(1);
    for (const name of ['BEACON_PORT', 'LOG_LEVEL', 'BEACON_DEFAULT_TTL', 'NATS_URL']) expect(stderr).toContain(name);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('stops when NATS has no JetStream, saying how to start it', async () => {
    const { status, stderr } = run({ NATS_URL: plainNats.url, BEACON_PORT: String(await freePort()) });
    expect(status).toBe(1);
    expect(stderr).toMatch(/has no JetStream/);
    expect(stderr).toMatch(/-js/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
