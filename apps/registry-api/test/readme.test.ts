import { REPO_ROOT } from '@beacon/testing';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryEnv } from '../src/config';
import { startRegistry, type RegistryFixture } from './registry-fixture';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** The shell blocks of one README section, in order. */
function shellBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

let registry: RegistryFixture;

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.dispose();
});

describe('README', () => {
  it('runs the "Try it" examples as written', async () => {
    const [examples, badInput] = shellBlocks('Try it');
    expect(examples).toMatch(/curl/);
    const script = `set -euo pipefail\n${(examples ?? '').replaceAll('http://localhost:8097', registry.api.url)}`;
    const { stdout } = await promisify(execFile)('bash', ['-c', script], { timeout: 30_000 });
    expect(stdout).toContain('"name":"homegrow-client"');
    expect(stdout).toContain('"message":"Heartbeat received successfully"');
    expect(stdout).toContain('"discovery_method":"api"');
    expect(stdout).toContain('"version":"1.1.0"');
    expect(stdout).toContain('"database":{"connected":true');
    expect(stdout.trim().endsWith('204')).toBe(true);

    const bad = await promisify(execFile)('bash', ['-c', (badInput ?? '').replaceAll('http://localhost:8097', registry.api.url)]);
    const documented = /# (\{"detail".*)\.\.\.\]\}/.exec(badInput ?? '')?.[1];
    expect(documented).toBeTruthy();
    expect(bad.stdout.startsWith(documented ?? 'missing')).toBe(true);
  });

  it('documents every registry-api variable', () => {
    for (const name of Object.keys(registryEnv)) expect(readme, name).toContain(`\`${name}\``);
  });
});
