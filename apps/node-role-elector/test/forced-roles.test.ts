import { REPO_ROOT, freePort, startNatsServer, waitFor, type NatsServerHandle } from '@beacon/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOOK, discovery, hookRuns, startElector, type Elector } from './support';

/** ROLE / --role as seed 001 has them: a forced role holds whatever the election says. */
const TTL_MS = 3000;

let nats: NatsServerHandle;
let dir: string;
const started: Elector[] = [];

const hookLog = (): string => join(dir, 'hooks.log');

async function launch(nodeId: string, env: Record<string, string> = {}): Promise<Elector> {
  const elector = await startElector(nodeId, {
    NATS_URL: nats.url,
    ELECTION_LEASE_TTL: String(TTL_MS / 1000),
    SERVER_ADVERTISE_HOST: '127.0.0.1',
    ROLE_HOOK: HOOK,
    HOOK_LOG: hookLog(),
    ...env,
  });
  started.push(elector);
  return elector;
}

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'beacon-elector-forced-'));
});

afterAll(async () => {
  for (const elector of started) await elector.stop('SIGKILL');
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('forced roles', () => {
  it('ROLE=agent never takes the lease; ROLE=server takes and holds it; the forced agent outlives the election', async () => {
    const launchedAt = Date.now();
    const agent = await launch('forced-agent', { ROLE: 'agent' });
    const first = await discovery(agent);
    expect(first).toMatchObject({ mode: 'agent', backend: 'forced', server: null });
    // When the role began, on the wire as the contract says (ElectorStatus.role_since).
    expect(Date.parse(first.role_since ?? '')).toBeGreaterThanOrEqual(launchedAt - 1000);
    // Alone, past a whole lease: still no server.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 500));
    expect(await discovery(agent)).toMatchObject({ mode: 'agent', server: null });

    const server = await launch('forced-server', { ROLE: 'server', SERVER_ADVERTISE_PORT: '9100' });
    const serverView = await discovery(server);
    expect(serverView).toMatchObject({ mode: 'server', backend: 'forced', server: { node_id: 'forced-server', port: 9100 } });
    await waitFor('the forced server holds the lease', async () => ((await discovery(server)).fencing_token ?? 0) > 0, 3000);

    const auto = await launch('auto-node');
    await waitFor(
      'the others follow the forced server',
      async () => {
        const views = await Promise.all([agent, auto].map(discovery));
        return views.every((view) => view.mode === 'agent' && view.server?.node_id === 'forced-server');
      },
      3000,
    );
    expect(hookRuns(hookLog(), 'forced-agent').at(-1)).toMatchObject({
      role: 'agent',
      serverNode: 'forced-server',
      url: 'http://127.0.0.1:9100',
    });

    // The forced server dies: the automatic node takes over; the forced agent stays an agent and follows it.
    await server.stop('SIGKILL');
    await waitFor('the automatic node is server', async () => (await discovery(auto)).mode === 'server', TTL_MS + 2000);
    await waitFor('the forced agent follows it', async () => (await discovery(agent)).server?.node_id === 'auto-node', 2000);
    expect((await discovery(agent)).mode).toBe('agent');
    expect(hookRuns(hookLog(), 'forced-agent').every((run) => run.role === 'agent')).toBe(true);
  });

  it('--role agent with SERVER_HOST: an agent of that server at once, without NATS or discovery', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'apps/node-role-elector/dist/main.js'), '--role', 'agent'], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        ELECTOR_PORT: String(port),
        NODE_ID: 'pinned-agent',
        SERVER_HOST: '10.1.2.3',
        SERVER_PORT: '8097',
        ROLE_HOOK: HOOK,
        HOOK_LOG: hookLog(),
      },
      stdio: 'ignore',
    });
    try {
      const view = await waitFor('the pinned agent answers', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/discovery`);
        return response.ok ? ((await response.json()) as Awaited<ReturnType<typeof discovery>>) : undefined;
      });
      expect(view).toMatchObject({ node_id: 'pinned-agent', mode: 'agent', backend: 'forced', server: { host: '10.1.2.3', port: 8097 } });
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
      await waitFor('its hook ran', () => hookRuns(hookLog(), 'pinned-agent').length > 0);
      expect(hookRuns(hookLog(), 'pinned-agent')).toEqual([
        expect.objectContaining({ role: 'agent', url: 'http://10.1.2.3:8097', token: '' }),
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a bad --role with a message naming it', async () => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'apps/node-role-elector/dist/main.js'), '--role', 'boss'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolveExit) => child.once('exit', resolveExit));
    expect(code).toBe(1);
    expect(output).toMatch(/--role must be server or agent, got "boss"/);
  });
});
