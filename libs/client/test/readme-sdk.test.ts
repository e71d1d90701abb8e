/**
 * README's "The TypeScript SDK" block, run as written against a real registry (BEACON_URL
 * pointed at it). Skipped, saying why, while README.md has no such heading.
 * BEACON_README_PATH runs another file's block (the draft, before it is merged).
 */
import { REPO_ROOT, startRegistry, type RegistryFixture } from '@beacon/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Beacon } from '../src';
import { runExample, tsBlockAfter } from './snippets';

const HEADING = '### The TypeScript SDK';
const source = process.env.BEACON_README_PATH ?? join(REPO_ROOT, 'README.md');
const block = tsBlockAfter(readFileSync(source, 'utf8'), HEADING);

describe.skipIf(block === undefined)(
  `README: ${HEADING}${block === undefined ? ` (skipped: ${source} has no "${HEADING}" heading with a \`\`\`ts block yet)` : ''}`,
  () => {
    let registry: RegistryFixture;

    beforeAll(async () => {
      registry = await startRegistry();
    });
    afterAll(async () => {
      await registry?.dispose();
    });

    it('runs as written', async () => {
      const { stdout, stderr } = await runExample(block!, { BEACON_URL: registry.api.url });
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^web http:\/\/127\.0\.0\.1:3000 active$/m);
      expect(stdout).toMatch(/^deregistered [0-9a-f-]{36}$/m);
      expect((await new Beacon({ url: registry.api.url }).list({ name: 'web' })).total).toBe(0);
    });
  },
);
