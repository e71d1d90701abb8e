import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './app-process';
import { waitFor } from './ports';

/** Beacon's apps in one process (`single/dist/main.js`), as `./beacon.sh start` runs them. */
export interface SingleProcess {
  readonly child: ChildProcess;
  /** Everything it wrote so far. */
  output(): string;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

export interface SingleProcessOptions {
  /** The apps to run, each with its own variables (`BEACON_APPS` and `BEACON_APP_ENV`). */
  apps: Record<string, Record<string, string>>;
  /** Variables every app reads, on top of a minimal environment. */
  env?: Record<string, string>;
  /** URLs that must answer 200 before it counts as started (polled every 50 ms). */
  readyUrls: string[];
  timeoutMs?: number;
}

/** Starts the single process and resolves once every `readyUrls` answers 200; throws (with its output) if it exits first. */
export async function startSingleProcess(options: SingleProcessOptions): Promise<SingleProcess> {
  const entry = join(REPO_ROOT, 'single', 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "pnpm build" first`);
  const child = spawn(process.execPath, [entry], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'warn',
      HTTP_HOST: '127.0.0.1',
      ...options.env,
      BEACON_APPS: Object.keys(options.apps).join(','),
      BEACON_APP_ENV: JSON.stringify(options.apps),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: SingleProcess = {
    child,
    output: () => output,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    for (const url of options.readyUrls) {
      await waitFor(
        `${url} ready in the single process`,
        async () => {
          if (child.exitCode !== null) throw new Error(`the single process exited with ${child.exitCode}:\n${output}`);
          return (await fetch(url).catch(() => null))?.ok === true;
        },
        options.timeoutMs ?? 30_000,
        50,
      );
    }
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
}
