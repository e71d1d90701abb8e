import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@beacon/testing';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * deploy/systemd/beacon.service (issue 14 item 9): systemd's own checker accepts it, and the
 * unit agrees with the launcher it runs (data directory, stop signal, shutdown time).
 * Starting it needs systemd as PID 1, which a test machine or container rarely has.
 */

const UNIT = join(REPO_ROOT, 'deploy', 'systemd', 'beacon.service');
const unitText = readFileSync(UNIT, 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const hasAnalyze = analyze.status === 0;
/** Appended to the names of the tests that need systemd-analyze, when it is missing. */
const noAnalyze = hasAnalyze ? '' : ' [skipped: systemd-analyze is not installed; Debian: apt-get install systemd]';
const work = mkdtempSync(join(tmpdir(), 'beacon-systemd-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `Key=value` lines of the unit, every value of a key in order (Environment= repeats). */
function settings(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) found.set(match[1] as string, [...(found.get(match[1] as string) ?? []), (match[2] as string).trim()]);
  }
  return found;
}

const unit = settings(unitText);
const one = (key: string): string | undefined => unit.get(key)?.at(-1);

/**
 * `systemd-analyze verify` on a copy named beacon.service: its exit status, and what it said
 * about that unit. An unknown key or a bad value is only a warning (exit 0), so the
 * diagnostics count as a failure too.
 */
function verify(text: string): { status: number | null; diagnostics: string[] } {
  const dir = mkdtempSync(join(work, 'unit-'));
  const path = join(dir, 'beacon.service');
  writeFileSync(path, text);
  const result = spawnSync('systemd-analyze', ['verify', path], { cwd: dir, encoding: 'utf8' });
  const diagnostics = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.includes('beacon.service'));
  return { status: result.status, diagnostics };
}

/** Signals the launcher (or a helper it imports from scripts/lib) stops on. */
function launcherSignals(): string[] {
  const sources = [join(REPO_ROOT, 'scripts', 'start.mjs')];
  const lib = join(REPO_ROOT, 'scripts', 'lib');
  if (existsSync(lib)) sources.push(...readdirSync(lib).map((file) => join(lib, file)));
  const text = sources.map((file) => readFileSync(file, 'utf8')).join('\n');
  return [...text.matchAll(/process\.on\('(SIG[A-Z]+)'/g)].map((match) => match[1] as string);
}

describe('deploy/systemd/beacon.service', () => {
  it.skipIf(!hasAnalyze)(`systemd-analyze verify accepts it without a warning${noAnalyze}`, () => {
    // The user and /opt/beacon need not exist for verify (it checks syntax, values and the
    // executable, found in systemd's PATH as node is); node must, as on the target box.
    expect(verify(unitText)).toEqual({ status: 0, diagnostics: [] });
  });

  it.skipIf(!hasAnalyze)(`the same check catches a misspelled key, a bad value and a missing executable${noAnalyze}`, () => {
    expect(verify(unitText.replace('PrivateTmp=yes', 'PrivateTmpp=yes')).diagnostics.join('\n')).toMatch(/Unknown key 'PrivateTmpp'/);
    expect(verify(unitText.replace('KillMode=mixed', 'KillMode=mixd')).diagnostics.join('\n')).toMatch(/kill mode/);
    const missing = verify(unitText.replace(/^ExecStart=node /m, 'ExecStart=beacon-no-such-node '));
    expect(missing.status).not.toBe(0);
    expect(missing.diagnostics.join('\n')).toMatch(/not executable/);
  });

  it.skipIf(!hasAnalyze)(`systemd-analyze security rates its exposure at most 3 of 10 (hardened)${noAnalyze}`, () => {
    const result = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { cwd: work, encoding: 'utf8' });
    const exposure = /Overall exposure level for beacon\.service: ([\d.]+)/.exec(result.stdout)?.[1];
    expect(exposure, result.stdout + result.stderr).toBeDefined();
    expect(Number(exposure)).toBeLessThanOrEqual(3);
  });

  it('runs the launcher as its own user, with its data in /var/lib/beacon, restarting on failure', () => {
    expect(one('User')).toBe('beacon');
    expect(one('ExecStart')).toMatch(/\bscripts\/start\.mjs$/);
    expect(existsSync(join(REPO_ROOT, 'scripts', 'start.mjs'))).toBe(true);
    expect(one('WorkingDirectory')).toBe('/opt/beacon');
    expect(unit.get('Environment')).toContain('BEACON_DATA_DIR=/var/lib/beacon');
    expect(one('StateDirectory')).toBe('beacon'); // systemd creates /var/lib/beacon, owned by the user
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe('/var/lib/beacon');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('Restart')).toBe('on-failure');
    expect(one('WantedBy')).toBe('multi-user.target');
  });

  it('stops it the way the launcher expects: its signal, to it alone, with time for the ordered shutdown', () => {
    expect(launcherSignals()).toContain(one('KillSignal'));
    // control-group would signal NATS and the apps at once, ahead of the launcher's order.
    expect(one('KillMode')).toBe('mixed');
    // nginx, then the apps, then NATS, each given up to 15 s by the launcher.
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(45);
  });
});
