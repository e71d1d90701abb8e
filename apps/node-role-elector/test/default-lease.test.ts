import { ELECTION_BUCKET, SERVER_LEASE_KEY, Subjects } from '@beacon/contracts';
import { EventRecorder, startNatsServer, waitFor, type NatsServerHandle } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenureTracker, roleEvents, settled, startElector, type Elector, type RoleEvent } from './support';

/** The default lease (10 s), worst case: the server dies right after refreshing it. */
const TTL_MS = 10_000;

let nats: NatsServerHandle;
let recorder: EventRecorder<RoleEvent>;
let watcher: NatsConnection;
const electors: Elector[] = [];
const writes: { node: string; revision: number }[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  recorder = await EventRecorder.start<RoleEvent>(nats.url, Subjects.nodeRoleChanged);
  electors.push(
    ...(await Promise.all(
      ['d1', 'd2', 'd3'].map((node) => startElector(node, { NATS_URL: nats.url, SERVER_ADVERTISE_HOST: '127.0.0.1' })),
    )),
  );
  watcher = await connect({ servers: nats.url });
  const kv = await watcher.jetstream().views.kv(ELECTION_BUCKET, { bindOnly: true });
  const updates = await kv.watch({ key: SERVER_LEASE_KEY });
  void (async () => {
    for await (const entry of updates) {
      if (entry.operation === 'PUT') writes.push({ node: entry.json<{ node_id: string }>().node_id, revision: entry.revision });
    }
  })();
});

afterAll(async () => {
  for (const elector of electors) await elector.stop('SIGKILL');
  await recorder?.close();
  await watcher?.close();
  await nats?.dispose();
});

describe('node-role-elector with the default 10 s lease', () => {
  it('kill -9 of the server just after it refreshed: a new server within TTL + 2 s, with a higher token', async () => {
    const { server, views } = await settled(electors);
    const token = views[0]?.fencing_token as number;
    const before = writes.length;
    await waitFor('a refresh', () => writes.slice(before).some((write) => write.node === server.nodeId && write.revision > token), TTL_MS);
    const seen = roleEvents(recorder).length;
    server.child.kill('SIGKILL');
    const killedAt = Date.now();
    const tracker = new TenureTracker();
    tracker.silence(server.nodeId, killedAt);

    const takeover = await waitFor(
      'a new server',
      () =>
        roleEvents(recorder)
          .slice(seen)
          .find((event) => event.node.role === 'server'),
      TTL_MS + 3000,
      10,
    );
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(TTL_MS + 2000);
    // Not before the lease could lapse: the refresh just before the kill kept it for TTL.
    expect(failoverMs).toBeGreaterThan(TTL_MS - 1500);
    expect(takeover.node.fencing_token).toBeGreaterThan(token);
    expect(tracker.violations(roleEvents(recorder))).toEqual([]);
  }, 30_000);
});
