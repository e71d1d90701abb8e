/**
 * README's "The `beacon` CLI" block, run as written against a real registry (localhost:8097
 * pointed at the test's). Skipped, saying why, while README.md has no such heading.
 * BEACON_README_PATH runs another file's block (the draft, before it is merged).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startRegistry, type RegistryFixture } from '@beacon/testing';
import type { ServiceListResponse } from '@beacon/contracts';
import { api } from './helpers';

const HEADING = '### The `beacon` CLI';
const source = process.env.BEACON_README_PATH ?? join(REPO_ROOT, 'README.md');
const text = readFileSync(source, 'utf8');
const at = text.indexOf(`\n${HEADING}\n`);
const block = at === -1 ? undefined : /```sh\n([\s\S]*?)```/.exec(text.slice(at))?.[1];

let registry: RegistryFixture;

describe.skipIf(block === undefined)(
  `README: ${HEADING}${block === undefined ? ` (skipped: ${source} has no "${HEADING}" heading yet)` : ''}`,
  () => {
    beforeAll(async () => {
      registry = await startRegistry();
    });
    afterAll(async () => {
      await registry?.dispose();
    });

    it('runs as written', async () => {
      const base = `127.0.0.1:${registry.api.port}`;
      const script = (block ?? '').replaceAll('localhost:8097', base).replaceAll('127.0.0.1:8097', base);
      expect(script).toContain('beacon run');
      const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\n${script}`], {
        cwd: REPO_ROOT,
        timeout: 90_000,
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(stdout).toMatch(/inventory\s+api\s+127\.0\.0\.1:8300\s+active/);
      expect(stdout).toContain('inventory 127.0.0.1:8300 active');
      expect(stdout).toContain('report done');
      expect(stdout).toContain('nightly-report is gone (exit code 3: not found)');
      expect(stdout).toContain('deregistered ');
      expect((await api<ServiceListResponse>(`${registry.base}/services`)).services).toEqual([]);
    });
  },
);
