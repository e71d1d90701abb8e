import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, listensOn, waitFor } from './ports';

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
  const chosen = options.env[options.portVariable] ? Number(options.env[options.portVariable]) : undefined;
  // A port free when asked can be taken before the app binds it, by another suite's process
  // (or by a sibling started in parallel that got the same one). Then the app dies with
  // EADDRINUSE while the other process answers the readiness probe: it is tried on a new port.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(name, entry, options, chosen ?? (await freePort()));
    } catch (error) {
      if (chosen !== undefined || attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(name: string, entry: string, options: StartAppOptions, port: number): Promise<AppProcess> {
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
  const outcome = await waitFor(
    `${name} on ${url}`,
    async () => {
      // Exited: waiting on cannot help, whatever answers this port now.
      if (child.exitCode !== null) return 'exited' as const;
      const response = await fetch(`${url}${options.readyPath ?? '/health'}`);
      // An answer from some other process on this port does not make this one ready.
      return response.ok && child.pid !== undefined && listensOn(child.pid, port) && ('ready' as const);
    },
    options.timeoutMs ?? 20_000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (outcome === 'exited') {
    if (/EADDRINUSE/.test(output)) throw new PortTakenError(`${name}: port ${port} was taken`);
    throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
  }
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
