/**
 * `beacon run` as scripts and supervisors use it: the child's exit code passes through, an
 * operator's delete (410) stops the heartbeats but not the command, and a Beacon that is
 * down at start is registered with once it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, waitFor, type RegistryFixture } from '@beacon/testing';
import type { Service, ServiceListResponse } from '@beacon/contracts';
import { api, BIN, cli } from './helpers';

let registry: RegistryFixture;
const children: ChildProcess[] = [];

const byName = async (name: string): Promise<Service[]> =>
  (await api<ServiceListResponse>(`${registry.base}/services?name=${name}`)).services;

/** `beacon run …` in the background, its stderr collected. */
function background(args: string[], url: string): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'run', ...args], {
    env: { PATH: process.env.PATH ?? '', BEACON_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await registry?.dispose();
});

describe('beacon run', () => {
  it("exits with the command's exit code and leaves nothing registered", async () => {
    const result = await cli(['run', '--name', 'run-exit', '--host', '127.0.0.1', '--port', '7001', '--', 'sh', '-c', 'sleep 1; exit 7'], {
      BEACON_URL: registry.api.url,
    });
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/registered run-exit as [0-9a-f-]{36}/);
    expect(result.stderr).toMatch(/deregistered [0-9a-f-]{36}/);
    expect(await byName('run-exit')).toEqual([]);
  });

  it('a usage error without a command exits 2', async () => {
    expect((await cli(['run', '--name', 'x', '--port', '1'], { BEACON_URL: registry.api.url })).code).toBe(2);
  });

  it("stops heartbeating when an operator deletes it (410) and keeps the command running; SIGTERM's code passes through", async () => {
    const run = background(
      ['--name', 'run-deleted', '--host', '127.0.0.1', '--port', '7002', '--ttl', '10', '--', 'sleep', '60'],
      registry.api.url,
    );
    await waitFor('the registration', async () => (await byName('run-deleted')).length === 1, 15_000);
    const [service] = await byName('run-deleted');
    expect((await fetch(`${registry.base}/services/${service?.service_id}`, { method: 'DELETE' })).status).toBe(204);
    await waitFor('the 410 to be reported', async () => run.stderr().includes('deleted by an operator'), 20_000);
    expect(run.child.exitCode).toBeNull();
    expect(await byName('run-deleted')).toEqual([]);
    run.child.kill('SIGTERM');
    // sleep dies of the forwarded SIGTERM: 128 + 15.
    expect(await run.exit).toBe(143);
  });

  it('runs the command while Beacon is down and registers once it answers', async () => {
    const port = registry.api.port;
    await registry.api.stop();
    const run = background(
      ['--name', 'run-late', '--host', '127.0.0.1', '--port', '7003', '--ttl', '10', '--', 'sleep', '60'],
      registry.api.url,
    );
    await waitFor('the note that it cannot register yet', async () => run.stderr().includes('cannot register yet'), 15_000);
    await registry.restart({ BEACON_PORT: String(port) });
    await waitFor('the late registration', async () => /registered run-late as/.test(run.stderr()), 20_000);
    expect(await byName('run-late')).toHaveLength(1);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(await byName('run-late')).toEqual([]);
  });
});
