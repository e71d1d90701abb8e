import { spawn } from 'node:child_process';
import { constants, networkInterfaces } from 'node:os';
import type { Command } from 'commander';
import { isBeaconError, type Registration } from '@beacon/client';
import { act, type Context } from '../context';
import { usage } from '../exit-codes';
import { addRegisterFlags, registerBody, type RegisterFlags } from '../options';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const RETRY_MS = 2_000;

/** This machine's first non-internal IPv4 address, else 127.0.0.1. */
export function lanAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

/**
 * Runs the command as a registered service: registers (retrying while Beacon is unreachable),
 * heartbeats while it lives, forwards SIGINT/SIGTERM/SIGHUP, deregisters when it exits, and
 * exits with its code (128 + the signal's number when a signal ended it).
 */
async function run(context: Context, argv: string[], flags: RegisterFlags): Promise<void> {
  const { output } = context;
  const [file, ...args] = argv;
  if (file === undefined) throw usage('beacon run needs a command after --');
  const body = registerBody(flags, flags.host ?? lanAddress());
  const child = spawn(file, args, { stdio: 'inherit' });
  let exited = false;
  let registration: Registration | undefined;
  let retry: NodeJS.Timeout | undefined;

  const forwards = FORWARDED.map((signal) => {
    const forward = (): void => {
      if (!exited) child.kill(signal);
    };
    process.on(signal, forward);
    return () => process.off(signal, forward);
  });

  const register = async (): Promise<void> => {
    if (exited) return;
    try {
      const beacon = await context.client();
      const handle = await beacon.register(body, { keepAlive: true });
      if (exited) return void (await handle.close());
      registration = handle;
      output.note(`registered ${body.name} as ${handle.id} at ${beacon.url}`);
      handle.on('lost', (error) => output.note(`heartbeat failed: ${error.detail}; retrying`));
      handle.on('restored', () => output.note(`heartbeats restored for ${handle.id}`));
      handle.on('deleted', () =>
        output.note(`${handle.id} was deleted by an operator (410 Gone): no longer heartbeating; the command keeps running`),
      );
    } catch (error) {
      if (isBeaconError(error, 'network', 'unavailable', 'server', 'rate_limited')) {
        output.note(`cannot register yet (${error.detail}); the command runs anyway, trying again every ${RETRY_MS / 1000}s`);
        retry = setTimeout(() => void register(), RETRY_MS);
        return;
      }
      output.note(`registration refused: ${isBeaconError(error) ? error.detail : String(error)}; the command runs unregistered`);
    }
  };

  const ended = new Promise<number>((resolve) => {
    child.on('error', (error) => {
      output.note(`cannot start ${file}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
  void register();
  const code = await ended;
  exited = true;
  clearTimeout(retry);
  for (const off of forwards) off();
  if (registration !== undefined) {
    try {
      await registration.close();
      output.note(`deregistered ${registration.id}`);
    } catch (error) {
      output.note(`could not deregister ${registration.id}: ${isBeaconError(error) ? error.detail : String(error)}`);
    }
  }
  process.exitCode = code;
}

export function addRunCommand(program: Command): void {
  addRegisterFlags(
    program
      .command('run')
      .description('run a command as a registered service: register, heartbeat while it lives, deregister when it exits')
      .argument('<command...>', 'the command and its arguments, after --')
      .usage('--name <name> --port <port> [options] -- <command> [args...]'),
    false,
  ).action(act(run));
}
