import { createLan, netnsUnavailable, waitFor, type Lan, type LanHost } from '@beacon/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOOK, discovery, hookRuns, startElector, type Elector } from './support';

/**
 * The mDNS backend between two hosts: network namespaces on one bridge (veth pairs),
 * multicast between them, no NATS anywhere. The test reaches each elector at its host's
 * address.
 */
const unavailable = netnsUnavailable();

let lan: Lan;
let dir: string;
let running: Elector[] = [];

const hookLog = (): string => join(dir, 'hooks.log');

function launch(nodeId: string, host: LanHost): Promise<Elector> {
  return startElector(
    nodeId,
    {
      DISCOVERY_BACKEND: 'mdns',
      MDNS_INTERFACE: host.ip,
      ELECTION_MDNS_WINDOW: '1.5',
      ELECTION_MDNS_ANNOUNCE_INTERVAL: '1',
      ROLE_HOOK: HOOK,
      HOOK_LOG: hookLog(),
    },
    { netns: { netns: host.netns, ip: host.ip } },
  ).then((elector) => {
    running.push(elector);
    return elector;
  });
}

/** Takes a host off the LAN and back (a partition that heals). */
function setLink(host: LanHost, up: boolean): void {
  const line = host
    .run('ip', ['-o', '-4', 'addr', 'show'])
    .stdout.split('\n')
    .find((entry) => entry.includes(` ${host.ip}/`));
  const name = line?.trim().split(/\s+/)[1]?.split('@')[0];
  if (!name) throw new Error(`no interface with ${host.ip} in ${host.netns}`);
  host.run('ip', ['link', 'set', 'dev', name, up ? 'up' : 'down']);
  // Taking the link down dropped the multicast route createLan added.
  if (up) host.run('ip', ['route', 'replace', '224.0.0.0/4', 'dev', name]);
}

async function views(electors: Elector[]) {
  return Promise.all(electors.map(discovery));
}

describe.skipIf(unavailable !== null)(`mDNS backend in network namespaces${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  beforeAll(() => {
    lan = createLan(2);
    dir = mkdtempSync(join(tmpdir(), 'beacon-elector-mdns-'));
  });

  afterEach(async () => {
    for (const elector of running) await elector.stop('SIGKILL');
    running = [];
  });

  afterAll(() => {
    lan?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the first node becomes server; the second finds it and becomes its agent; on a goodbye the agent takes over', async () => {
    const [first, second] = lan.hosts as [LanHost, LanHost];
    // "b" starts first: the first on the network is server, whatever the ids.
    const b = await launch('mdns-b', first);
    expect(await discovery(b)).toMatchObject({
      mode: 'server',
      backend: 'mdns',
      server: { node_id: 'mdns-b', host: first.ip, port: 8097 },
    });

    const a = await launch('mdns-a', second);
    const agentView = await discovery(a);
    expect(agentView).toMatchObject({ mode: 'agent', server: { node_id: 'mdns-b', host: first.ip, port: 8097 }, fencing_token: null });
    expect(agentView.discovered_servers['mdns-b']).toMatchObject({ host: first.ip, port: 8097, mode: 'server' });
    await waitFor('the agent ran its hook', () => hookRuns(hookLog(), 'mdns-a').length > 0);
    expect(hookRuns(hookLog(), 'mdns-a')[0]).toMatchObject({ role: 'agent', host: first.ip, url: `http://${first.ip}:8097` });
    // Still so a few announcements later.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await views([b, a])).map((view) => view.mode)).toEqual(['server', 'agent']);

    // A graceful stop says goodbye: the agent elects again and is server after its window.
    await b.stop('SIGTERM');
    await waitFor('the agent took over', async () => (await discovery(a)).mode === 'server', 4000);
  });

  it('two nodes started at the same moment: the lower node id is server, the other its agent', async () => {
    const [first, second] = lan.hosts as [LanHost, LanHost];
    const [high, low] = await Promise.all([launch('mdns-z', first), launch('mdns-y', second)]);
    const settled = await waitFor(
      'one server',
      async () => {
        const [highView, lowView] = await views([high, low]);
        return highView?.mode === 'agent' && lowView?.mode === 'server' ? { highView, lowView } : undefined;
      },
      5000,
    );
    expect(settled.highView.server).toEqual({ node_id: 'mdns-y', host: second.ip, port: 8097 });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await views([high, low])).map((view) => view.mode)).toEqual(['agent', 'server']);
  });

  it('two servers that hear each other (a partition heals): the higher node id steps down to agent of the lower', async () => {
    const [first, second] = lan.hosts as [LanHost, LanHost];
    const hooksBefore = hookRuns(hookLog(), 'mdns-z').length;
    const low = await launch('mdns-y', second);
    setLink(second, false);
    try {
      const high = await launch('mdns-z', first);
      expect((await discovery(high)).mode).toBe('server');
    } finally {
      setLink(second, true);
    }
    const high = running.at(-1) as Elector;
    await waitFor('the higher id steps down', async () => (await discovery(high)).server?.node_id === 'mdns-y', 5000);
    expect(await discovery(high)).toMatchObject({ mode: 'agent', server: { node_id: 'mdns-y', host: second.ip } });
    expect((await discovery(low)).mode).toBe('server');
    const metrics = await (await fetch(`${high.url}/metrics`)).text();
    expect(metrics).toMatch(/beacon_elector_step_downs_total\{reason="lower_node_id",app="node-role-elector"\} 1/);
    await waitFor('its hook ran as agent', () => hookRuns(hookLog(), 'mdns-z').length >= hooksBefore + 2);
    expect(
      hookRuns(hookLog(), 'mdns-z')
        .slice(hooksBefore)
        .map((run) => run.role),
    ).toEqual(['server', 'agent']);
  });
});
