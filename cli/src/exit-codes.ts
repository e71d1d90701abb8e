import { CommanderError } from 'commander';
import { BeaconError } from '@beacon/client';

/** The CLI's exit codes (docs/cli.md). */
export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3, unauthorized: 4 } as const;

/** A failure the CLI explains itself: `beacon: <message>` on stderr, then this exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}

export function usage(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** The exit code and the sentence for any error a command throws. */
export function explain(error: unknown): { code: number; message: string | undefined } {
  if (error instanceof CommanderError) {
    // Commander printed its own message (or the help/version) already.
    // Asked-for help and -V exit 0; help shown because a subcommand is missing is a usage error.
    const asked =
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      (error.code === 'commander.help' && error.exitCode === 0);
    return { code: asked ? EXIT.ok : EXIT.usage, message: undefined };
  }
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  if (error instanceof BeaconError) {
    const code =
      error.code === 'not_found'
        ? EXIT.notFound
        : error.code === 'unauthorized'
          ? EXIT.unauthorized
          : error.code === 'bad_request'
            ? EXIT.error
            : EXIT.error;
    const where = error.code === 'network' ? ` (${error.method} ${error.path})` : '';
    return { code, message: `${error.detail}${where}` };
  }
  return { code: EXIT.error, message: error instanceof Error ? error.message : String(error) };
}
