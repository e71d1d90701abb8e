#!/usr/bin/env node
/** The `beacon` command (docs/cli.md). */
import { explain } from './exit-codes';
import { buildProgram } from './program';

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    const { code, message } = explain(error);
    if (message !== undefined) process.stderr.write(`beacon: ${message}\n`);
    process.exitCode = code;
  }
}

void main();
