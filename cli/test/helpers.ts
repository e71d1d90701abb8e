import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/**
 * A terminal as a person uses it: a tmux server on its own socket, one 160x50 window running
 * bash with `beacon` on PATH. `screen()` is what the person sees.
 */
export class Tmux {
  private static count = 0;
  readonly socket = `beacon-cli-${process.pid}-${(Tmux.count += 1)}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'beacon-tmux-'));

  constructor(env: Record<string, string>) {
    writeFileSync(join(this.dir, 'beacon'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    const path = `${this.dir}:${process.env.PATH ?? ''}`;
    this.tmux(['new-session', '-d', '-x', '160', '-y', '50', '-s', 'main', 'bash --norc --noprofile'], {
      PATH: path,
      HOME: this.dir,
      TERM: 'xterm-256color',
      PS1: '$ ',
      HISTFILE: '/dev/null',
      ...env,
    });
  }

  private tmux(args: string[], env?: Record<string, string>): string {
    const result = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', env: env ?? { PATH: process.env.PATH ?? '' } });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  /** Types a line and presses Enter. */
  type(line: string): void {
    this.tmux(['send-keys', '-t', 'main', '-l', line]);
    this.tmux(['send-keys', '-t', 'main', 'Enter']);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /** The screen and its scrollback as text (`escapes`: with the colour codes tmux keeps). */
  screen(escapes = false): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-2000', '-t', 'main', ...(escapes ? ['-e'] : [])]);
  }

  clear(): void {
    this.type('clear');
    this.tmux(['clear-history', '-t', 'main']);
  }

  /** Waits until the screen satisfies `test` and returns it. */
  async waitForScreen(what: string, test: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  dispose(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
