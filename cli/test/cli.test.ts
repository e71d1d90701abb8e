/**
 * The CLI as scripts use it: `--json` is the API's own answer, `-q` ids only, exit codes
 * 2/3/4 with the server's detail, no escape codes off a TTY or with NO_COLOR.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startRegistry, type RegistryFixture } from '@beacon/testing';
import type { Service } from '@beacon/contracts';
import { api, cli, type CliResult } from './helpers';

let registry: RegistryFixture;
let url = '';
let env: Record<string, string> = {};
const run = (...args: string[]): Promise<CliResult> => cli(args, env);
const ESC = '\u001b[';

beforeAll(async () => {
  registry = await startRegistry();
  url = registry.api.url;
  env = { BEACON_URL: url };
});

afterAll(async () => {
  await registry?.dispose();
});

describe('beacon against a registry', () => {
  let web: Service;
  let db: Service;

  it('registers with every flag and --json prints the stored record', async () => {
    const registered = await run(
      'register',
      '--name',
      'cli-web',
      '--host',
      '127.0.0.1',
      '--port',
      '8101',
      '--type',
      'api',
      '--tag',
      'web',
      '--tag',
      'blue',
      '--meta',
      'rack=r1',
      '--ttl',
      '120',
      '--json',
    );
    expect(registered.stderr).toBe('');
    expect(registered.code, registered.stderr).toBe(0);
    web = JSON.parse(registered.stdout) as Service;
    expect(web).toMatchObject({
      name: 'cli-web',
      host: '127.0.0.1',
      port: 8101,
      type: 'api',
      tags: ['web', 'blue'],
      metadata: { rack: 'r1' },
      ttl: 120,
    });
    const quiet = await run('register', '--name', 'cli-db', '--host', '127.0.0.1', '--port', '8102', '--type', 'database', '-q');
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    db = await api<Service>(`${registry.base}/services/${quiet.stdout.trim()}`);
    expect(db.name).toBe('cli-db');
  });

  it('--json of ls, get, uptime, pings, stats, incidents and webhooks equals the API', async () => {
    const pairs: [string[], string][] = [
      [['ls'], '/services'],
      [['ls', '--type', 'api'], '/services?type=api'],
      [['ls', '--tag', 'web', '--tag', 'blue'], '/services?tags=web,blue'],
      [['ls', '--meta', 'rack=r1'], '/services?metadata.rack=r1'],
      [['get', web.service_id], `/services/${web.service_id}`],
      [['get', 'cli-db'], '/services?name=cli-db'],
      [['uptime', web.service_id], `/services/${web.service_id}/uptime`],
      [['pings', web.service_id], `/services/${web.service_id}/pings`],
      [['incidents', 'ls'], '/incidents'],
      [['webhooks', 'ls'], '/webhooks'],
    ];
    for (const [args, route] of pairs) {
      const result = await run(...args, '--json');
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      const fromApi = await api<unknown>(`${registry.base}${route}`);
      const printed = JSON.parse(result.stdout) as Record<string, unknown>;
      // Times relative to now (uptime's window bounds) move between the two requests.
      if (args[0] === 'uptime') {
        expect(printed).toMatchObject({ service_id: web.service_id, source: (fromApi as { source: string }).source });
        continue;
      }
      expect(printed, args.join(' ')).toEqual(fromApi);
    }
    const stats = JSON.parse((await run('stats', '--json')).stdout) as { services: unknown };
    expect(stats.services).toEqual((await api<{ services: unknown }>(`${registry.base}/stats`)).services);
  });

  it('filters: ls --type/--tag/--name pick the right rows', async () => {
    expect((await run('ls', '-q', '--type', 'database')).stdout.trim().split('\n')).toEqual([db.service_id]);
    expect((await run('ls', '-q', '--tag', 'blue')).stdout.trim().split('\n')).toEqual([web.service_id]);
    expect((await run('ls', '-q', '--name', 'cli-web', '--status', 'active')).stdout.trim().split('\n')).toEqual([web.service_id]);
    expect((await run('ls', '-q', '--tag', 'nope')).stdout).toBe('');
  });

  it('prints a table without escape codes off a TTY, and with NO_COLOR', async () => {
    const table = await run('ls');
    expect(table.code, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+TYPE\s+ADDRESS\s+STATUS\s+HEALTH/);
    expect(rows.some((row) => row.includes('cli-web') && row.includes('127.0.0.1:8101') && row.includes('active'))).toBe(true);
    expect(table.stdout).not.toContain(ESC);
    const noColor = await cli(['get', web.service_id], { ...env, NO_COLOR: '' });
    expect(noColor.stdout).toContain('cli-web');
    expect(noColor.stdout).not.toContain(ESC);
  });

  it('heartbeat renews, deregister removes, and the id is then not found (exit 3, the detail)', async () => {
    const beat = await run('heartbeat', db.service_id, '--json');
    expect(beat.code, beat.stderr).toBe(0);
    expect(JSON.parse(beat.stdout)).toMatchObject({ service_id: db.service_id, message: 'Heartbeat received successfully' });
    const gone = await run('deregister', db.service_id);
    expect(gone).toMatchObject({ code: 0, stdout: `deregistered ${db.service_id}\n` });
    const missing = await run('get', db.service_id);
    expect(missing.code, missing.stderr).toBe(3);
    expect(missing.stdout).toBe('');
    const detail = (await fetch(`${registry.base}/services/${db.service_id}`).then((r) => r.json())) as { detail: string };
    expect(missing.stderr).toBe(`beacon: ${detail.detail}\n`);
    expect((await run('incidents', 'get', 'no-such-incident')).code).toBe(3);
  });

  it('usage errors exit 2: unknown command, missing flag, bad number, bad --meta', async () => {
    for (const args of [
      ['bogus'],
      ['register', '--name', 'x', '--port', '1'],
      ['ls', '--limit', 'many'],
      ['ls', '--meta', 'novalue'],
      ['completion', 'tcsh'],
      ['incidents'],
    ]) {
      const result = await run(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^(beacon: |Usage: beacon incidents)/);
      expect(result.stdout).toBe('');
    }
  });

  it('asked-for help and -V exit 0', async () => {
    for (const args of [['--help'], ['help', 'ls'], ['ls', '--help'], ['-V']]) {
      const result = await run(...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });

  it('a bad request exits 1 with the field the server names', async () => {
    const result = await run('register', '--name', 'x', '--host', 'bad host!', '--port', '80');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^beacon: .*host/);
  });

  it('an unreachable Beacon exits 1 and says so', async () => {
    const result = await cli(['ls'], { BEACON_URL: 'http://127.0.0.1:9' });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^beacon: /);
  });
});

describe('beacon against a registry with BEACON_AUTH_TOKEN', () => {
  let secured: RegistryFixture;
  beforeAll(async () => {
    secured = await startRegistry({ env: { BEACON_AUTH_TOKEN: 'cli-secret-token-0123456789' } });
  });
  afterAll(async () => {
    await secured?.dispose();
  });

  it('exits 4 with the detail without the token, and works with --token or BEACON_TOKEN', async () => {
    const args = ['register', '--name', 'cli-secured', '--host', '127.0.0.1', '--port', '8103', '-q'];
    const denied = await cli(args, { BEACON_URL: secured.api.url });
    expect(denied.code, denied.stderr).toBe(4);
    const answer = await fetch(`${secured.base}/services/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cli-secured', host: '127.0.0.1', port: 8103 }),
    });
    expect(answer.status).toBe(401);
    expect(denied.stderr).toBe(`beacon: ${((await answer.json()) as { detail: string }).detail}\n`);
    const withFlag = await cli([...args, '--token', 'cli-secret-token-0123456789'], { BEACON_URL: secured.api.url });
    expect(withFlag.code, withFlag.stderr).toBe(0);
    const id = withFlag.stdout.trim();
    const withEnv = await cli(['deregister', id], { BEACON_URL: secured.api.url, BEACON_TOKEN: 'cli-secret-token-0123456789' });
    expect(withEnv.code, withEnv.stderr).toBe(0);
  });
});

describe('the ways to start it', () => {
  it('pnpm -s beacon and npx beacon (at the root and in cli/) print clean --json on stdout', async () => {
    const own = await startRegistry();
    try {
      await own.register({ name: 'pnpm-clean', host: '127.0.0.1', port: 8104 });
      const fromApi = await api<unknown>(`${own.base}/services`);
      const options = { env: { ...process.env, BEACON_URL: own.api.url, NO_COLOR: '1' }, timeout: 60_000 };
      const viaPnpm = await promisify(execFile)('pnpm', ['-s', 'beacon', 'ls', '--json'], { ...options, cwd: REPO_ROOT });
      expect(JSON.parse(viaPnpm.stdout)).toEqual(fromApi);
      for (const cwd of [REPO_ROOT, `${REPO_ROOT}/cli`]) {
        const viaNpx = await promisify(execFile)('npx', ['--no-install', 'beacon', 'ls', '--json'], { ...options, cwd });
        expect(JSON.parse(viaNpx.stdout), cwd).toEqual(fromApi);
      }
    } finally {
      await own.dispose();
    }
  });
});
