import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, waitFor } from './ports';

/** The monorepo root, from this file's place in libs/testing/src. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

export interface AppProcess {
  name: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the exit code (or signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  readonly child: ChildProcess;
}

export interface StartAppOptions {
  /** Variables on top of a minimal environment. */
  env: Record<string, string>;
  /** The variable that carries the HTTP port (set to a free port unless given in env). */
  portVariable: string;
  cwd?: string;
  /** Path that answers 200 once the app is up. */
  readyPath?: string;
  /** Run inside this LAN host's network namespace (see `createLan`), reached at its address. */
  netns?: { netns: string; ip: string };
  timeoutMs?: number;
}

/**
 * Starts a built app (`apps/<name>/dist/main.js`) as a real process and waits until it
 * answers on its HTTP port. Run `pnpm build` first; the test command does.
 */
export async function startApp(name: string, options: StartAppOptions): Promise<AppProcess> {
  const entry = resolve(REPO_ROOT, 'apps', name, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "pnpm build" first`);
  const port = options.env[options.portVariable] ? Number(options.env[options.portVariable]) : await freePort();
  const command = options.netns ? 'ip' : process.execPath;
  const args = options.netns ? ['netns', 'exec', options.netns.netns, process.execPath, entry] : [entry];
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      ...options.env,
      [options.portVariable]: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown')),
  );
  const url = `http://${options.netns?.ip ?? '127.0.0.1'}:${port}`;
  await waitFor(
    `${name} on ${url}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
      const response = await fetch(`${url}${options.readyPath ?? '/health'}`);
      return response.ok;
    },
    options.timeoutMs ?? 20_000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    name,
    port,
    url,
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
