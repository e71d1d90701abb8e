import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@beacon/testing';

export const BIN = join(REPO_ROOT, 'cli', 'dist', 'bin.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a script would: no TTY, the given environment only (plus PATH/HOME). */
export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function api<T>(url: string, init: RequestInit = {}): Promise<T> {
  const answer = await fetch(url, init);
  return (await answer.json()) as T;
}
