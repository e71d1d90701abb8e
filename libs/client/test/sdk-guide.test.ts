/** docs/sdk.md's quick start, run as written against a real registry (BEACON_URL pointed at it). */
import { REPO_ROOT, startRegistry, type RegistryFixture } from '@beacon/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Beacon } from '../src';
import { runExample, tsBlockAfter } from './snippets';

const guide = readFileSync(join(REPO_ROOT, 'docs', 'sdk.md'), 'utf8');

describe('docs/sdk.md', () => {
  let registry: RegistryFixture;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.dispose();
  });

  it('has one ```ts block: the quick start, which runs as written', async () => {
    expect(guide.match(/```ts\n/g)).toHaveLength(1);
    const example = tsBlockAfter(guide, '## Quick start');
    expect(example).toBeDefined();
    const { stdout, stderr } = await runExample(example!, { BEACON_URL: registry.api.url });
    expect(stderr).toBe('');
    const id = /^registered (\S+) alive$/m.exec(stdout)?.[1];
    expect(id).toBeDefined();
    expect(stdout).toContain('billing http://127.0.0.1:8080');
    expect(stdout).toMatch(/^closed closed$/m);
    // close() deregistered it: nothing of it is left in the catalog.
    expect((await new Beacon({ url: registry.api.url }).list({ name: 'billing' })).total).toBe(0);
  });

  it('documents every error code and every registration event', () => {
    for (const code of [
      'bad_request',
      'unauthorized',
      'not_found',
      'conflict',
      'gone',
      'rate_limited',
      'unavailable',
      'server',
      'network',
      'protocol',
    ])
      expect(guide).toMatch(new RegExp(`\\| +\`${code}\` +\\|`));
    for (const event of ['heartbeat(answer)', 'lost(error)', 'restored(service)', 'deleted(error)', 'error(error)'])
      expect(guide).toMatch(new RegExp(`\\| +\`${event.replace(/[()]/g, '\\$&')}\` +\\|`));
  });
});
