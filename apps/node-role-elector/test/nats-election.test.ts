import { ELECTION_BUCKET, SERVER_LEASE_KEY, Subjects } from '@beacon/contracts';
import { EventRecorder, startNatsServer, waitFor, type NatsServerHandle } from '@beacon/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HOOK,
  TenureTracker,
  discovery,
  hookRuns,
  readEnvFile,
  roleEvents,
  settled,
  startElector,
  storedRoleEvents,
  type Elector,
  type RoleEvent,
} from './support';

/**
 * Three real electors on a real nats-server, lease TTL 3 s (margin 600 ms, refresh every
 * second), each with a hook that logs its environment and an env file. The tests run in
 * order on the same cluster: each leaves one server and two agents behind.
 */
const TTL_MS = 3000;
const FAILOVER_LIMIT_MS = TTL_MS + 2000;

let nats: NatsServerHandle;
let dir: string;
let recorder: EventRecorder<RoleEvent>;
let watcher: NatsConnection;
const tracker = new TenureTracker();
const electors = new Map<string, Elector>();
/** Lease writes the store accepted: revision, holder and the store's timestamp. */
const leaseWrites: { revision: number; node: string | null; created: number }[] = [];

const hookLog = (): string => join(dir, 'hooks.log');
const advertisedPort = (nodeId: string): number => 9000 + Number(nodeId.replace(/\D/g, ''));

async function launch(nodeId: string): Promise<Elector> {
  const elector = await startElector(nodeId, {
    NATS_URL: nats.url,
    ELECTION_LEASE_TTL: String(TTL_MS / 1000),
    SERVER_ADVERTISE_HOST: '127.0.0.1',
    SERVER_ADVERTISE_PORT: String(advertisedPort(nodeId)),
    ROLE_HOOK: HOOK,
    HOOK_LOG: hookLog(),
    ROLE_ENV_FILE: join(dir, `${nodeId}.env`),
  });
  electors.set(nodeId, elector);
  return elector;
}

const live = (): Elector[] => [...electors.values()].filter((e) => e.child.exitCode === null && e.child.signalCode === null);

/** Waits until the server has refreshed its lease at least once (a disruption then cuts a live tenure). */
async function refreshed(nodeId: string, token: number): Promise<void> {
  await waitFor(
    `${nodeId} refreshed its lease`,
    () => leaseWrites.some((write) => write.node === nodeId && write.revision > token),
    TTL_MS,
  );
}

function eventsSince(count: number): RoleEvent[] {
  return roleEvents(recorder).slice(count);
}

/** Follows the lease key through a KV watch, so a test knows when the holder last wrote it. */
async function watchLease(): Promise<void> {
  watcher = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const kv = await watcher.jetstream().views.kv(ELECTION_BUCKET, { bindOnly: true });
  const updates = await kv.watch({ key: SERVER_LEASE_KEY });
  void (async () => {
    for await (const entry of updates) {
      let node: string | null = null;
      if (entry.operation === 'PUT') node = entry.json<{ node_id: string }>().node_id;
      leaseWrites.push({ revision: entry.revision, node, created: entry.created.getTime() });
    }
  })();
}

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'beacon-elector-'));
  recorder = await EventRecorder.start<RoleEvent>(nats.url, Subjects.nodeRoleChanged);
  await Promise.all(['n1', 'n2', 'n3'].map(launch));
  await watchLease();
});

afterAll(async () => {
  for (const elector of electors.values()) {
    elector.child.kill('SIGCONT');
    await elector.stop('SIGKILL');
  }
  await recorder?.close();
  await watcher?.close().catch(() => undefined);
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('node-role-elector on NATS (three electors, lease 3 s)', () => {
  it('elects exactly one server; the others are its agents; the hook and env file carry the role', async () => {
    const { server, views } = await settled(live());
    const token = views[0]?.fencing_token as number;
    expect(token).toBeGreaterThan(0);
    expect(views.filter((view) => view.mode === 'server')).toHaveLength(1);
    for (const view of views.filter((v) => v.mode === 'agent')) {
      expect(view.server).toEqual({ node_id: server.nodeId, host: '127.0.0.1', port: advertisedPort(server.nodeId) });
      expect(view.discovered_servers[server.nodeId]).toMatchObject({
        host: '127.0.0.1',
        port: advertisedPort(server.nodeId),
        mode: 'server',
      });
    }

    // Seed 001's hook environment, per node, and the same in each env file.
    const url = `http://127.0.0.1:${advertisedPort(server.nodeId)}`;
    await waitFor('every node ran its hook', () => ['n1', 'n2', 'n3'].every((node) => hookRuns(hookLog(), node).length > 0));
    for (const node of ['n1', 'n2', 'n3']) {
      const runs = hookRuns(hookLog(), node);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        role: node === server.nodeId ? 'server' : 'agent',
        host: '127.0.0.1',
        port: String(advertisedPort(server.nodeId)),
        url,
        token: String(token),
        serverNode: server.nodeId,
      });
      expect(readEnvFile(join(dir, `${node}.env`))).toEqual({
        BEACON_ROLE: node === server.nodeId ? 'server' : 'agent',
        BEACON_SERVER_HOST: '127.0.0.1',
        BEACON_SERVER_PORT: String(advertisedPort(server.nodeId)),
        BEACON_SERVER_URL: url,
        BEACON_SERVER_NODE_ID: server.nodeId,
        BEACON_NODE_ID: node,
        BEACON_FENCING_TOKEN: String(token),
      });
    }

    // The role events say the same, one per node.
    const events = await recorder.waitForCount(Subjects.nodeRoleChanged, 3);
    expect(events.filter((event) => event.node.role === 'server')).toEqual([
      expect.objectContaining({
        v: 1,
        type: 'node.role_changed',
        node: {
          node_id: server.nodeId,
          role: 'server',
          server_host: '127.0.0.1',
          server_port: advertisedPort(server.nodeId),
          fencing_token: token,
        },
      }),
    ]);

    // beacon.elector.status answers over NATS with the same document.
    const status = await watcher.request(Subjects.electorStatus, new Uint8Array(), { timeout: 2000 });
    expect(status.json<{ mode: string; fencing_token: number }>()).toMatchObject({ fencing_token: token });

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/beacon_elector_role\{role="server",app="node-role-elector"\} 1/);
    expect(metrics).toMatch(/beacon_elector_lease_refreshes_total\{result="ok",app="node-role-elector"\} \d+/);
    expect(metrics).toMatch(/beacon_elector_hook_runs_total\{result="ok",app="node-role-elector"\} 1/);
  });

  it('kill -9 of the server: an agent takes over within TTL + 2 s with a higher token; the old node returns as agent', async () => {
    const { server, views } = await settled(live());
    const oldToken = views[0]?.fencing_token as number;
    const seen = roleEvents(recorder).length;
    server.child.kill('SIGKILL');
    const killedAt = Date.now();
    tracker.silence(server.nodeId, killedAt);
    await server.stop('SIGKILL');

    const takeover = await waitFor(
      'a new server',
      () => eventsSince(seen).find((event) => event.node.role === 'server'),
      FAILOVER_LIMIT_MS + 1000,
      10,
    );
    expect(Date.now() - killedAt).toBeLessThan(FAILOVER_LIMIT_MS);
    expect(takeover.node.node_id).not.toBe(server.nodeId);
    expect(takeover.node.fencing_token).toBeGreaterThan(oldToken);

    const returned = await launch(server.nodeId);
    const after = await settled(live());
    expect(after.server.nodeId).toBe(takeover.node.node_id);
    expect((await discovery(returned)).mode).toBe('agent');
    expect(tracker.violations(roleEvents(recorder))).toEqual([]);
  });

  it('SIGSTOP past the lease, then SIGCONT: it steps down before acting as server; the new server has a higher token', async () => {
    const { server, views } = await settled(live());
    const oldToken = views[0]?.fencing_token as number;
    await refreshed(server.nodeId, oldToken);
    const seen = roleEvents(recorder).length;
    server.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    tracker.silence(server.nodeId, stoppedAt);

    const takeover = await waitFor(
      'a new server',
      () => eventsSince(seen).find((event) => event.node.role === 'server'),
      FAILOVER_LIMIT_MS + 1000,
      10,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(FAILOVER_LIMIT_MS);
    expect(takeover.node.fencing_token).toBeGreaterThan(oldToken);

    const hooksBefore = hookRuns(hookLog(), server.nodeId).length;
    const eventsBefore = roleEvents(recorder).length;
    server.child.kill('SIGCONT');
    // The very first answer after the pause is already an agent's.
    expect((await discovery(server)).mode).not.toBe('server');

    const own = (): RoleEvent[] => eventsSince(eventsBefore).filter((event) => event.node.node_id === server.nodeId);
    await waitFor(
      'the old server follows the new one',
      () => own().some((event) => event.node.server_port === advertisedPort(takeover.node.node_id)),
      5000,
    );
    expect(own()[0]?.node).toMatchObject({ role: 'agent', server_host: null, fencing_token: null });
    expect(own().every((event) => event.node.role === 'agent')).toBe(true);

    await waitFor(
      'its hook ran as agent',
      () =>
        hookRuns(hookLog(), server.nodeId)
          .slice(hooksBefore)
          .some((run) => run.serverNode === takeover.node.node_id),
      5000,
    );
    const runs = hookRuns(hookLog(), server.nodeId).slice(hooksBefore);
    expect(runs.every((run) => run.role === 'agent')).toBe(true);

    const after = await settled(live());
    expect(after.server.nodeId).toBe(takeover.node.node_id);
    expect(tracker.violations(roleEvents(recorder))).toEqual([]);
  });

  it('a refresh that finds the revision moved (the key was overwritten) steps the server down at once', async () => {
    const { server, views } = await settled(live());
    const oldToken = views[0]?.fencing_token as number;
    await refreshed(server.nodeId, oldToken);
    const hooksBefore = hookRuns(hookLog(), server.nodeId).length;
    const kv = await watcher.jetstream().views.kv(ELECTION_BUCKET, { bindOnly: true });
    // A holder that will never refresh: its lease lapses after TTL and someone takes over.
    const intruder = {
      v: 1,
      node_id: 'intruder',
      instance: 'test',
      host: '127.0.0.1',
      port: 1,
      fencing_token: null,
      since: new Date().toISOString(),
    };
    await kv.put(SERVER_LEASE_KEY, new TextEncoder().encode(JSON.stringify(intruder)));
    const tamperedAt = Date.now();

    const stepDown = await waitFor(
      'the server stepped down',
      () =>
        hookRuns(hookLog(), server.nodeId)
          .slice(hooksBefore)
          .find((run) => run.role === 'agent'),
      TTL_MS,
      10,
    );
    // At its next refresh: within a third of the lease (plus a hook run).
    expect(stepDown.at - tamperedAt).toBeLessThan(TTL_MS / 3 + 300);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/beacon_elector_lease_refreshes_total\{result="lost",app="node-role-elector"\} 1/);
    await waitFor(
      'every node follows the intruder',
      async () => (await Promise.all(live().map(discovery))).every((view) => view.server?.node_id === 'intruder'),
      3000,
    );

    const after = await settled(live(), TTL_MS + 3000);
    expect(after.views[0]?.fencing_token).toBeGreaterThan(oldToken);
  });

  it('SIGTERM of the server: it steps down, then releases the lease, and an agent takes over at once', async () => {
    const { server, views } = await settled(live());
    const oldToken = views[0]?.fencing_token as number;
    const seen = roleEvents(recorder).length;
    const stoppedAt = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    const own = await waitFor(
      'its step-down event',
      () => {
        const found = eventsSince(seen).filter((event) => event.node.node_id === server.nodeId);
        return found.length > 0 ? found : undefined;
      },
      2000,
    );
    expect(own.map((event) => event.node.role)).toEqual(['agent']);
    expect(hookRuns(hookLog(), server.nodeId).at(-1)).toMatchObject({ role: 'agent', serverNode: '' });
    const takeover = await waitFor('a new server', () => eventsSince(seen).find((event) => event.node.role === 'server'), 3000, 10);
    expect(Date.now() - stoppedAt).toBeLessThan(1500);
    expect(takeover.node.fencing_token).toBeGreaterThan(oldToken);
    expect(Date.parse(takeover.timestamp)).toBeGreaterThanOrEqual(Date.parse(own[0]?.timestamp ?? ''));
    await launch(server.nodeId);
    expect((await settled(live())).server.nodeId).toBe(takeover.node.node_id);
  });

  it('refreshes failing (nats-server stopped): the server steps down before its lease could lapse; one server again after', async () => {
    const { server, views } = await settled(live());
    const oldToken = views[0]?.fencing_token as number;
    await refreshed(server.nodeId, oldToken);
    const hooksBefore = hookRuns(hookLog(), server.nodeId).length;
    await nats.stop();
    const stoppedAt = Date.now();

    const stepDown = await waitFor(
      'the server stepped down',
      () =>
        hookRuns(hookLog(), server.nodeId)
          .slice(hooksBefore)
          .find((run) => run.role === 'agent'),
      TTL_MS + 1000,
      10,
    );
    // When the lease could lapse at the earliest: the holder's last accepted write + TTL.
    const lastWrite = leaseWrites.filter((write) => write.node === server.nodeId && write.created <= stoppedAt).at(-1);
    expect(lastWrite).toBeDefined();
    const lapse = (lastWrite?.created ?? 0) + TTL_MS;
    console.info(`stepped down ${stepDown.at - stoppedAt} ms after NATS stopped, ${lapse - stepDown.at} ms before the lease could lapse`);
    expect(stepDown.at).toBeLessThan(lapse);
    expect(stepDown.at).toBeGreaterThan(stoppedAt);
    expect(stepDown.serverNode).toBe('');
    // The other nodes cannot elect anyone while the store is away.
    expect((await Promise.all(live().map(discovery))).filter((view) => view.mode === 'server')).toEqual([]);

    await nats.start();
    const after = await settled(live(), 15_000);
    expect(after.views[0]?.fencing_token).toBeGreaterThan(oldToken);
  });

  it('the observer never saw two servers with overlapping tenure (everything the stream kept)', async () => {
    // Events published while NATS was away are stored once their node has retried.
    const views = await Promise.all(live().map(discovery));
    const events = await waitFor(
      "each node's latest role in the stream",
      async () => {
        const stored = await storedRoleEvents(nats.url);
        const latest = (node: string) => stored.filter((event) => event.node.node_id === node).at(-1)?.node;
        const caughtUp = views.every(
          (view) => latest(view.node_id)?.role === view.mode && latest(view.node_id)?.fencing_token === view.fencing_token,
        );
        return caughtUp ? stored : undefined;
      },
      10_000,
      200,
    ).catch(async (error: unknown) => {
      const stored = await storedRoleEvents(nats.url);
      throw new Error(`${String(error)}\nviews: ${JSON.stringify(views)}\nstored: ${JSON.stringify(stored.map((e) => e.node))}`);
    });
    expect(events.filter((event) => event.node.role === 'server').length).toBeGreaterThanOrEqual(6);
    expect(tracker.violations(events)).toEqual([]);
  });
});
