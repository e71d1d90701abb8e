/** docs/cli.md is what the generator makes from the commands' own help now, so it cannot drift. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@beacon/testing';

const generator = join(REPO_ROOT, 'cli', 'scripts', 'gen-docs.mjs');

describe('docs/cli.md', () => {
  it('matches node cli/scripts/gen-docs.mjs (run it after changing a command)', async () => {
    const check = await promisify(execFile)(process.execPath, [generator, '--check']).then(
      () => 0,
      (error: { code?: number; stderr?: string }) => error.code ?? 1,
    );
    expect(check).toBe(0);
  });

  it('documents every command of the tree, with its help', async () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'cli.md'), 'utf8');
    const bash = (await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'cli', 'dist', 'bin.js'), 'completion', 'bash'])).stdout;
    // The completion script lists each command path with its subcommands: every one has a section.
    const paths = [...bash.matchAll(/^ {4}"([^"]*)"\) subs=/gm)].map((match) => match[1]).filter((path) => path !== '');
    expect(paths).toContain('incidents ack');
    for (const path of paths) expect(docs, path).toContain(`### \`beacon ${path}\``);
    expect(docs).toContain('Usage: beacon run --name <name> --port <port> [options] -- <command> [args...]');
  });
});
