/**
 * `beacon run` at its edges: a command that does not exist or cannot be run exits like a shell
 * (127, 126), a bad flag stops it before the command starts, a Ctrl-C on a terminal reaches the
 * command once (not once from the terminal and again from run), and signals sent to run alone
 * (SIGINT, SIGQUIT) are still forwarded.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startRegistry, waitFor } from '@beacon/testing';
import type { ServiceListResponse } from '@beacon/contracts';
import { api, BIN, cli, Tmux } from './helpers';

// Nothing listens there: run keeps trying to register, which does not matter here.
const NOWHERE = { BEACON_URL: 'http://127.0.0.1:1' };
const dir = mkdtempSync(join(tmpdir(), 'beacon-run-review-'));

/** A node program that prints each signal it gets (numbered) and exits `code` a moment after the first. */
function counter(signal: string, code: number): string {
  const file = join(dir, `count-${signal}.js`);
  writeFileSync(
    file,
    `let n = 0;
process.on('${signal}', () => { n += 1; console.log('got ${signal} ' + n); if (n === 1) setTimeout(() => process.exit(${code}), 1500); });
setInterval(() => undefined, 1000);
console.log('ready');
`,
  );
  return file;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('beacon run, failing to start', () => {
  it('a command that does not exist exits 127, one that cannot be run 126, as shells do', async () => {
    const missing = await cli(['run', '--name', 'r', '--port', '80', '--', 'no-such-command-here'], NOWHERE);
    expect(missing.code, missing.stderr).toBe(127);
    expect(missing.stderr).toContain('cannot start no-such-command-here: no such command');
    const file = join(dir, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    const denied = await cli(['run', '--name', 'r', '--port', '80', '--', file], NOWHERE);
    expect(denied.code, denied.stderr).toBe(126);
    expect(denied.stderr).toContain(`cannot start ${file}`);
  });

  it('a bad register flag is a usage error (2) before the command starts', async () => {
    const marker = join(dir, 'started');
    const result = await cli(['run', '--name', 'r', '--port', '70000', '--', 'touch', marker], NOWHERE);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port must be a whole number from 1 to 65535, not "70000"');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('beacon run, signals', () => {
  it('SIGINT and SIGQUIT sent to run alone (no terminal) are forwarded once, and the exit code passes through', async () => {
    for (const [signal, code] of [
      ['SIGINT', 5],
      ['SIGQUIT', 6],
    ] as const) {
      const child = spawn(process.execPath, [BIN, 'run', '--name', 'r', '--port', '80', '--', process.execPath, counter(signal, code)], {
        env: { PATH: process.env.PATH ?? '', ...NOWHERE },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exit = new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
      await waitFor('the command to start', () => stdout.includes('ready'), 30_000);
      child.kill(signal);
      expect(await exit).toBe(code);
      expect(stdout).toContain(`got ${signal} 1`);
      expect(stdout).not.toContain(`got ${signal} 2`);
    }
  });

  it('Ctrl-C on a terminal reaches the command once, not a second time from run', async () => {
    const tmux = new Tmux(NOWHERE);
    try {
      tmux.type(`beacon run --name r --port 80 -- node ${counter('SIGINT', 7)}; echo "exit=$?"`);
      await tmux.waitForScreen('the command', (text) => text.includes('ready'));
      tmux.keys('C-c');
      const screen = await tmux.waitForScreen('run to exit', (text) => /exit=\d+/.test(text));
      expect(screen).toContain('got SIGINT 1');
      expect(screen).not.toContain('got SIGINT 2');
      expect(screen).toContain('exit=7');
    } finally {
      tmux.dispose();
    }
  });
});

describe('beacon run, killed with SIGKILL', () => {
  it('cannot deregister, so its record is registered with a short TTL of 30 s unless --ttl says otherwise', async () => {
    const registry = await startRegistry();
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--name',
        'review-ttl',
        '--host',
        '127.0.0.1',
        '--port',
        '8123',
        '--',
        process.execPath,
        '-e',
        'console.log(process.pid); setInterval(() => undefined, 1000)',
      ],
      { env: { PATH: process.env.PATH ?? '', BEACON_URL: registry.api.url }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      const listed = await waitFor(
        'the registration',
        async () => (await api<ServiceListResponse>(`${registry.base}/services?name=review-ttl`)).services[0],
        30_000,
        250,
      );
      expect(listed.ttl).toBe(30);
    } finally {
      child.kill('SIGKILL');
      // The command outlives a SIGKILLed run (nothing could pass it on): stop it here.
      const pid = Number(stdout.trim().split('\n')[0]);
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await registry.dispose();
    }
  });
});
