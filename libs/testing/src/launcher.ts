import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './app-process';
import { freePort } from './ports';

/** `scripts/start.mjs` (what `./beacon.sh start` runs after installing and building), started by a test. */
export interface Launcher {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Starts the launcher (or another entry of the repository, such as single/dist/main.js) with a
 * minimal environment (JSON logs) and `env` on top.
 */
export function launch(env: Record<string, string>, entry: string = join('scripts', 'start.mjs')): Launcher {
  const child = spawn(process.execPath, [join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/**
 * Stops a launcher still running after its tests: Ctrl-C first, so it stops what it started
 * (a SIGKILL alone would leave its apps and nats-server running, orphaned, after a failed
 * test), and SIGKILL only if it has not exited within 20 s.
 */
export async function stopLauncher(stack: Launcher | undefined): Promise<void> {
  if (!stack || stack.child.exitCode !== null || stack.child.signalCode !== null) return;
  stack.child.kill('SIGINT');
  const timer = setTimeout(() => stack.child.kill('SIGKILL'), 20_000);
  await stack.exited;
  clearTimeout(timer);
}

/** The port variables the launcher reads (nginx's `BEACON_PORT` and each app's own). */
export const LAUNCHER_PORT_VARIABLES = [
  'BEACON_PORT',
  'REGISTRY_PORT',
  'GATEWAY_HTTP_PORT',
  'REAPER_HTTP_PORT',
  'PROBER_HTTP_PORT',
  'ANNOUNCER_HTTP_PORT',
  'ELECTOR_PORT',
  'BEACON_NATS_PORT',
] as const;

/** A free loopback port for each of `names`, as environment values. */
export async function freePorts(names: readonly string[] = LAUNCHER_PORT_VARIABLES): Promise<Record<string, string>> {
  const ports: Record<string, string> = {};
  for (const name of names) ports[name] = String(await freePort());
  return ports;
}
