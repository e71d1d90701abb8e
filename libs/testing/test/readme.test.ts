import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startApp, type AppProcess } from '../src/app-process';
import { startNatsServer, type NatsServerHandle } from '../src/nats-server';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** The shell blocks of one README section, in order. */
function shellBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

let nats: NatsServerHandle;
let dir: string;
const apps: AppProcess[] = [];
let base = '';

/** The README's examples, pointed at this test's registry instead of localhost:8097. */
const localize = (script: string): string => script.replaceAll('localhost:8097', base).replaceAll('127.0.0.1:8097', base);

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'beacon-readme-'));
  const registry = await startApp('registry-api', {
    env: { NATS_URL: nats.url, BEACON_SQLITE_PATH: join(dir, 'beacon.db') },
    portVariable: 'BEACON_PORT',
  });
  apps.push(registry, await startApp('health-prober', { env: { NATS_URL: nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' }));
  base = `127.0.0.1:${registry.port}`;
});

afterAll(async () => {
  for (const app of apps) await app.stop();
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('README', () => {
  it('runs the "Try it" examples as written', async () => {
    const [examples, badInput] = shellBlocks('Try it');
    expect(examples).toMatch(/curl/);
    const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\n${localize(examples ?? '')}`], { timeout: 30_000 });
    expect(stdout).toContain('"name":"homegrow-client"');
    expect(stdout).toContain('"message":"Heartbeat received successfully"');
    expect(stdout).toContain('"discovery_method":"api"');
    expect(stdout).toContain('"version":"1.1.0"');
    expect(stdout).toContain('"database":{"connected":true');
    expect(stdout).toMatch(/"result":\{[^}]*"outcome":"healthy"/);
    expect(stdout).toMatch(/"checks":\[\{[^\]]*"outcome":"healthy"/);
    expect(stdout.trim().endsWith('204')).toBe(true);

    const bad = await promisify(execFile)('bash', ['-c', localize(badInput ?? '')]);
    const documented = /# (\{"detail".*)\.\.\.\]\}/.exec(badInput ?? '')?.[1];
    expect(documented).toBeTruthy();
    expect(bad.stdout.startsWith(documented ?? 'missing')).toBe(true);
  });
});
