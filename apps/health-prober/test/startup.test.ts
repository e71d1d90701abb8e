import { REPO_ROOT } from '@beacon/testing';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Configuration is validated at boot: a bad CIDR stops the prober with a message naming it. */
function boot(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'apps/health-prober/dist/main.js')], {
      env: { PATH: process.env.PATH ?? '', NATS_URL: 'nats://127.0.0.1:1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('health-prober start-up', () => {
  it('refuses to start with a bad CIDR or out-of-range settings, naming each', async () => {
    const { code, output } = await boot({
      PROBE_DENY_CIDRS: '169.254.0.0/16,fe80::/129',
      PROBE_ALLOW_CIDRS: 'intranet',
      PROBE_JITTER: '0.7',
    });
    expect(code).toBe(1);
    expect(output).toContain('health-prober: Invalid configuration');
    expect(output).toContain('PROBE_DENY_CIDRS has entries that are not an IP address or CIDR range: "fe80::/129"');
    expect(output).toContain('PROBE_ALLOW_CIDRS has entries that are not an IP address or CIDR range: "intranet"');
    expect(output).toContain('PROBE_JITTER must be between 0 and 0.5');
  });
});
