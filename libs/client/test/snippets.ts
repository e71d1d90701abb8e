import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** libs/client: a module written here imports `@beacon/client` as its users do (the package's own exports). */
export const PACKAGE_DIR = resolve(__dirname, '..');

/** The first ```ts block after `heading` (a whole line), or undefined when the heading or block is missing. */
export function tsBlockAfter(markdown: string, heading: string): string | undefined {
  const at = `\n${markdown}`.indexOf(`\n${heading}\n`);
  if (at === -1) return undefined;
  return /```ts\n([\s\S]*?)```/.exec(markdown.slice(Math.max(0, at - 1)))?.[1];
}

/**
 * Runs a documentation example as written, as an ES module in plain node against the built
 * package (the examples carry no type annotations, so they are JavaScript too).
 */
export async function runExample(code: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const file = join(PACKAGE_DIR, `.example-${randomUUID().slice(0, 8)}.mjs`);
  writeFileSync(file, code);
  try {
    return await promisify(execFile)(process.execPath, [file], {
      cwd: PACKAGE_DIR,
      timeout: 30_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
  } finally {
    rmSync(file, { force: true });
  }
}
