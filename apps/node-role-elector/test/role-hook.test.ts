import { MetricsService } from '@beacon/platform';
import { freePort, REPO_ROOT, waitFor } from '@beacon/testing';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { RoleDecision } from '../src/election/decision';
import { roleVariables } from '../src/hooks/role-env';
import { RoleHookRunner, type RoleHookSettings } from '../src/hooks/role-hook.runner';

/** The hook runner with real `sh` processes: retries, backoff, supersession, timeouts, the env file. */
const dir = mkdtempSync(join(tmpdir(), 'beacon-role-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const file = (name: string): string => join(dir, `${(files += 1)}-${name}`);
const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

const server: RoleDecision = { role: 'server', server: { node_id: 'n1', host: '10.0.0.1', port: 8097 }, fencingToken: 7 };
const agent: RoleDecision = { role: 'agent', server: { node_id: 'n2', host: '10.0.0.2', port: 8097 }, fencingToken: 9 };
const job = (decision: RoleDecision) => ({ decision, variables: roleVariables('n1', decision) });

function runner(settings: Partial<RoleHookSettings>, isCurrent: (decision: RoleDecision) => boolean = () => true) {
  const metrics = new MetricsService('test');
  const runs = metrics.counter('beacon_elector_hook_runs_total', 'runs', ['result']);
  const hooks = new RoleHookRunner(
    { command: undefined, envFile: undefined, timeoutMs: 5000, maxBackoffMs: 400, baseBackoffMs: 100, ...settings },
    pino({ level: 'silent' }),
    runs,
    isCurrent,
  );
  const count = async (result: string): Promise<number> => (await runs.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { hooks, count };
}

describe('role hook runner', () => {
  it('writes the env file before the hook runs, and the hook sees the same variables', async () => {
    const env = file('role.env');
    const seen = file('seen');
    const { hooks } = runner({
      envFile: env,
      command: `cat "${env}" > "${seen}"; echo "URL=$BEACON_SERVER_URL TOKEN=$BEACON_FENCING_TOKEN" >> "${seen}"`,
    });
    hooks.submit(job(server));
    await waitFor('the hook ran', () => lines(seen).length > 0);
    expect(lines(seen)).toContain('BEACON_ROLE=server');
    expect(lines(seen)).toContain('BEACON_SERVER_URL=http://10.0.0.1:8097');
    expect(lines(seen).at(-1)).toBe('URL=http://10.0.0.1:8097 TOKEN=7');
  });

  it('retries a failing hook with growing delays until it succeeds', async () => {
    const log = file('attempts');
    // Fails twice, then succeeds.
    const { hooks, count } = runner({ command: `date +%s%3N >> "${log}"; [ "$(wc -l < "${log}")" -ge 3 ]` });
    hooks.submit(job(server));
    await waitFor('three attempts', () => lines(log).length >= 3, 3000);
    await waitFor('settled', () => !hooks.pending);
    const [first, second, third] = lines(log).map(Number) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(90);
    expect(third - second).toBeGreaterThanOrEqual(190);
    expect(await count('failed')).toBe(2);
    expect(await count('ok')).toBe(1);
  });

  it('a newer role change replaces a pending retry of an older one', async () => {
    const log = file('runs');
    const { hooks } = runner({ command: `echo "$BEACON_ROLE" >> "${log}"; [ "$BEACON_ROLE" = agent ]`, baseBackoffMs: 300 });
    hooks.submit(job(server)); // fails, retry pending in 300 ms
    await waitFor('the first run', () => lines(log).length === 1);
    hooks.submit(job(agent));
    await waitFor('the agent run', () => lines(log).includes('agent'));
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(lines(log)).toEqual(['server', 'agent']);
    expect(hooks.pending).toBe(false);
  });

  it('a change that arrives while the hook runs goes next; the ones in between are skipped', async () => {
    const log = file('serial');
    const { hooks } = runner({
      command: `echo "start $BEACON_FENCING_TOKEN" >> "${log}"; sleep 0.3; echo "end $BEACON_FENCING_TOKEN" >> "${log}"`,
    });
    hooks.submit(job(server));
    await waitFor('running', () => lines(log).length === 1);
    hooks.submit(job({ ...agent, fencingToken: 8 }));
    hooks.submit(job(agent));
    await hooks.idle(3000);
    expect(lines(log)).toEqual(['start 7', 'end 7', 'start 9', 'end 9']);
  });

  it('kills a hook that overruns its timeout (with what it started) and retries it', async () => {
    const marker = file('child');
    const { hooks, count } = runner({
      command: `(sleep 2; touch "${marker}") & sleep 5`,
      timeoutMs: 200,
      maxBackoffMs: 60_000,
      baseBackoffMs: 60_000,
    });
    hooks.submit(job(server));
    await waitFor('the timeout', async () => (await count('timeout')) === 1, 3000);
    expect(hooks.pending).toBe(true);
    hooks.stop();
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect(existsSync(marker)).toBe(false);
  });

  it('does not run a change that no longer holds (the lease deadline passed meanwhile)', async () => {
    const log = file('stale');
    const { hooks } = runner({ command: `echo "$BEACON_ROLE" >> "${log}"` }, (decision) => decision.role !== 'server');
    hooks.submit(job(server));
    await hooks.idle(1000);
    expect(lines(log)).toEqual([]);
  });
});

describe('a failing ROLE_HOOK in a running elector', () => {
  it('is logged and retried; the elector keeps running', async () => {
    const port = await freePort();
    const log = file('elector-hook');
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'apps/node-role-elector/dist/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        ELECTOR_PORT: String(port),
        ROLE: 'agent',
        SERVER_HOST: '10.9.9.9',
        ROLE_HOOK: `echo run >> "${log}"; echo "compose is not installed" >&2; exit 3`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor('two attempts', () => lines(log).length >= 2, 5000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/beacon_elector_hook_runs_total\{result="failed",app="node-role-elector"\} [2-9]/);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect(output).toMatch(/ROLE_HOOK failed/);
      expect(output).toMatch(/compose is not installed/);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
