import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants, networkInterfaces } from 'node:os';
import type { Command } from 'commander';
import { isBeaconError, type Registration } from '@beacon/client';
import { act, givenUrl, type Context } from '../context';
import { usage } from '../exit-codes';
import { addRegisterFlags, registerBody, type RegisterFlags } from '../options';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
/** The signals a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\\). */
const FROM_TERMINAL = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT']);
const RETRY_MS = 2_000;
// A run killed with SIGKILL cannot deregister: its record lasts until this TTL runs out (the
// registry's default, 300 s, would keep a dead process listed for 5 minutes).
const RUN_TTL_SECONDS = 30;

/**
 * Whether this process is in its terminal's foreground process group (Linux: /proc/self/stat's
 * pgrp and tpgid). The child shares that group, so a Ctrl-C reached it from the terminal already.
 */
export function inForegroundGroup(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name in parentheses: state ppid pgrp session tty_nr tpgid …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const tpgid = Number(fields[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

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
  // A URL that can never work is a usage error before the command starts, not a note after.
  givenUrl(context.options);
  const body = registerBody(flags, flags.host ?? lanAddress());
  const child = spawn(file, args, { stdio: 'inherit' });
  let exited = false;
  let registration: Registration | undefined;
  let retry: NodeJS.Timeout | undefined;

  const forwards = FORWARDED.map((signal) => {
    const forward = (): void => {
      // Sent again, a Ctrl-C would reach the command twice: many take a second one as "force quit".
      if (exited || (FROM_TERMINAL.has(signal) && inForegroundGroup())) return;
      child.kill(signal);
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
    child.on('error', (error: NodeJS.ErrnoException) => {
      // As shells do: 127 when there is no such command, 126 when it cannot be run.
      output.note(`cannot start ${file}: ${error.code === 'ENOENT' ? 'no such command' : error.message}`);
      resolve(error.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
  // Only a command that started is registered (none comes and goes for a typo).
  child.once('spawn', () => void register());
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
    RUN_TTL_SECONDS,
  ).action(act(run));
}
