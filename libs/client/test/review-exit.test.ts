import { startRegistry, uniqueName, type RegistryFixture } from '@beacon/testing';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Beacon, BeaconError } from '../src';

const PACKAGE = resolve(__dirname, '..');

/** Runs an ESM program with the built package in plain node; its exit code (or signal) and output. */
function run(program: string, args: string[], limitMs: number): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', program, '--', ...args], { cwd: PACKAGE });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the program did not exit on its own within ${limitMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      done({ code: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}

describe('a keepAlive program ends on its own', () => {
  let registry: RegistryFixture;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.dispose();
  });

  it('register with keepAlive, one heartbeat, close(): the process exits by itself and the record is gone', async () => {
    const name = uniqueName('sdk-review-exit');
    const program = `
      import { Beacon } from '@beacon/client';
      const [url, name] = process.argv.slice(-2);
      const beacon = new Beacon({ url });
      const registration = await beacon.register({ name, host: '127.0.0.1', port: 7300, ttl: 10 }, { keepAlive: true, deregisterOnExit: true });
      // The SDK's timers are unref'd: the program holds itself up until the first heartbeat.
      const hold = setInterval(() => undefined, 1000);
      await new Promise((done) => registration.on('heartbeat', done));
      clearInterval(hold);
      await registration.close();
      console.log(JSON.stringify({ id: registration.id, state: registration.state }));
    `;
    const { code, stdout, stderr } = await run(program, [registry.api.url, name], 60_000);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { id, state } = JSON.parse(stdout) as { id: string; state: string };
    expect(state).toBe('closed');
    const error = await new Beacon({ url: registry.api.url }).get(id).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(BeaconError);
    expect((error as BeaconError).status).toBe(404);
  }, 90_000);
});
