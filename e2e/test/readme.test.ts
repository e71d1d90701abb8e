import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startApp, type AppProcess, startRegistry, type RegistryFixture, waitFor } from '@beacon/testing';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** The shell blocks of one README section, in order. */
function shellBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

let registry: RegistryFixture;
const apps: AppProcess[] = [];
let base = '';

/** The README's examples, pointed at this test's registry instead of localhost:8097. */
const localize = (script: string): string => script.replaceAll('localhost:8097', base).replaceAll('127.0.0.1:8097', base);

beforeAll(async () => {
  registry = await startRegistry();
  apps.push(await startApp('health-prober', { env: { NATS_URL: registry.nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' }));
  base = `127.0.0.1:${registry.api.port}`;
});

afterAll(async () => {
  for (const app of apps) await app.stop();
  await registry?.dispose();
});

describe('README', () => {
  it('runs the "Try it" examples as written', async () => {
    const [examples, badInput] = shellBlocks('Try it');
    expect(examples).toMatch(/curl/);
    const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\n${localize(examples ?? '')}`], { timeout: 30_000 });
    expect(stdout).toContain('"name":"homegrow-client"');
    expect(stdout).toContain('"message":"Heartbeat received successfully"');
    expect(stdout).toContain('"discovery_method":"api"');
    expect(stdout).toContain('"version":"1.1.0"');
    expect(stdout).toContain('"database":{"connected":true');
    expect(stdout).toMatch(/"result":\{[^}]*"outcome":"healthy"/);
    expect(stdout).toMatch(/"checks":\[\{[^\]]*"outcome":"healthy"/);
    expect(stdout.trim().endsWith('204')).toBe(true);

    const bad = await promisify(execFile)('bash', ['-c', localize(badInput ?? '')]);
    const documented = /# (\{"detail".*)\.\.\.\]\}/.exec(badInput ?? '')?.[1];
    expect(documented).toBeTruthy();
    expect(bad.stdout.startsWith(documented ?? 'missing')).toBe(true);
  });
});

describe('README: a delete sticks (tombstones)', () => {
  it('runs the example as written: 204, then 410 naming the delete, the same id back on registering, then 200', async () => {
    const [example] = shellBlocks('Expiry and health checks');
    expect(example).toMatch(/410/);
    const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\n${localize(example ?? '')}`], { timeout: 30_000 });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('204');
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ detail: expect.stringMatching(/\(doomed\) was deregistered at .* by DELETE/) });
    expect(lines.slice(2)).toEqual(['410', 'true', '200']);
  });
});

describe("pnpm events (the README's way to follow NATS without the NATS CLI)", () => {
  /** Runs scripts/nats-events.mjs until `done` holds for its output lines, then stops it with SIGINT. */
  async function follow(args: string[], action: () => Promise<void>, done: (lines: string[]) => boolean): Promise<string[]> {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'nats-events.mjs'), ...args], {
      env: { PATH: process.env.PATH ?? '', NATS_URL: registry.nats.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    const lines = (): string[] => out.split('\n').filter(Boolean);
    try {
      await waitFor('the follower to start', () => err.includes('events: following'));
      await action();
      await waitFor(`matching lines from pnpm events ${args.join(' ')} (got: ${out.slice(0, 500)})`, () => done(lines()));
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    return lines();
  }

  const register = async (name: string): Promise<string> => (await registry.register({ name, host: '192.0.2.7', port: 8080 })).service_id;

  it('prints live events as JSON lines, filtered by subject', async () => {
    let id = '';
    const lines = await follow(
      ['beacon.events.service.*'],
      async () => {
        id = await register('events-live');
        await fetch(`http://${base}/api/v1/services/${id}/heartbeat`, { method: 'PUT' });
      },
      (seen) => seen.some((line) => line.includes('service.renewed')),
    );
    const parsed = lines.map((line) => JSON.parse(line) as { subject: string; data: { type: string; service: { service_id: string } } });
    expect(parsed.map((entry) => entry.subject)).toEqual(
      expect.arrayContaining(['beacon.events.service.registered', 'beacon.events.service.renewed']),
    );
    expect(parsed.every((entry) => entry.subject.startsWith('beacon.events.service.'))).toBe(true);
    expect(parsed.find((entry) => entry.data.type === 'service.registered')?.data.service.service_id).toBe(id);
  });

  it('replays what the stream kept with --replay, with stream sequence numbers', async () => {
    const id = await register('events-replayed');
    const lines = await follow(
      ['--replay'],
      async () => {},
      (seen) => seen.some((line) => line.includes(id)),
    );
    const replayed = lines.map((line) => JSON.parse(line) as { subject: string; seq: number });
    expect(replayed.length).toBeGreaterThan(0);
    expect(replayed.every((entry) => Number.isInteger(entry.seq) && entry.seq > 0)).toBe(true);
    // Renewals are core NATS only: never in the stream.
    expect(replayed.some((entry) => entry.subject.endsWith('.renewed'))).toBe(false);
  });

  it('refuses an unknown flag with its usage, and says where it looked when NATS is not there', async () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      promisify(execFile)(process.execPath, [join(REPO_ROOT, 'scripts', 'nats-events.mjs'), ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
    const unknown = await run(['--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    expect(unknown.stderr).toContain('Usage: pnpm events');
    const away = await run([], { NATS_URL: 'nats://127.0.0.1:1' });
    expect(away.code).toBe(1);
    expect(away.stderr).toContain('cannot reach NATS at nats://127.0.0.1:1');
  });
});
