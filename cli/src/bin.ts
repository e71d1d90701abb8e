#!/usr/bin/env node
/** The `beacon` command (docs/cli.md). */
import { explain } from './exit-codes';
import { printable } from './output';
import { buildProgram } from './program';

// `beacon ls | head -1`: a reader that stopped reading is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    const { code, message } = explain(error);
    if (message !== undefined) process.stderr.write(`beacon: ${printable(message)}\n`);
    process.exitCode = code;
  }
}

void main();
