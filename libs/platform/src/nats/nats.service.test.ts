import {
  ELECTION_BUCKET,
  EVENTS_STREAM,
  ExpireRequest,
  SERVICE_EVENTS_WILDCARD,
  Subjects,
  WIRE_VERSION,
  type AnyServiceEvent,
  type NodeRoleChangedEvent,
  type Service,
  type StoredEvent,
} from '@beacon/contracts';
import { sleep, waitFor } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../http/errors';
import { RevisionConflict } from './lease-bucket';
import { bytes, serviceRecord, startNatsFixture, type ConnectedService, type NatsFixture } from './nats.fixture';
import { NatsRequestError, RequestError } from './request-errors';

class Gone extends DomainError {
  readonly kind = 'not_found';
}

const service = (id: string, revision: number): Service => serviceRecord(id, revision);

function registered(id: string, revision: number): AnyServiceEvent {
  return { v: WIRE_VERSION, type: 'service.registered', timestamp: new Date().toISOString(), revision, service: service(id, revision) };
}

function roleChanged(nodeId: string): NodeRoleChangedEvent {
  return {
    v: WIRE_VERSION,
    type: 'node.role_changed',
    timestamp: new Date().toISOString(),
    node: { node_id: nodeId, role: 'server', server_host: '10.0.0.1', server_port: 8097, fencing_token: 1 },
  };
}

let fixture: NatsFixture;
let owner: ConnectedService;

beforeAll(async () => {
  fixture = await startNatsFixture();
  owner = await fixture.service({ eventStream: 'provision', maxAgeSeconds: 3600 });
});

afterAll(async () => {
  await fixture?.close();
});

describe('NatsService.subscribe', () => {
  it('hands the handler only what its subject carries; drops the rest, counted and warned about', async () => {
    const received: [AnyServiceEvent, string][] = [];
    owner.nats.subscribe(SERVICE_EVENTS_WILDCARD, (event, subject) => received.push([event, subject]));
    const raw = await fixture.raw();
    raw.publish(Subjects.serviceRegistered, bytes('not json'));
    raw.publish(Subjects.serviceRegistered, bytes({ ...registered('a', 1), type: 'service.updated' })); // type is not the subject's
    raw.publish(Subjects.serviceUpdated, bytes({ ...registered('a', 2), type: 'service.updated', service: { name: 'a' } }));
    raw.publish(Subjects.serviceDeregistered, bytes({ ...registered('a', 3), type: 'service.deregistered' })); // no reason
    raw.publish('beacon.events.service.unheard_of', bytes({ ...registered('a', 4), type: 'service.unheard_of' }));
    raw.publish(Subjects.serviceRegistered, bytes(registered('a', 5)));
    await waitFor('the valid event', () => received.length > 0);
    await sleep(100);

    expect(received).toHaveLength(1);
    expect(received[0]).toEqual([expect.objectContaining({ revision: 5 }), Subjects.serviceRegistered]);
    const labels = { subject: SERVICE_EVENTS_WILDCARD };
    expect(await owner.count('beacon_nats_messages_dropped_total', { ...labels, reason: 'not_json' })).toBe(1);
    expect(await owner.count('beacon_nats_messages_dropped_total', { ...labels, reason: 'invalid' })).toBe(4);
    // One warning for the burst; the count says how many were dropped.
    const warnings = owner.logs.filter((line) => line.msg === 'dropped a malformed message');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ subject: Subjects.serviceRegistered, problem: 'not JSON' });
  });

  it('types a subscription by its subject, shares a queue group, and tells the consumer of each drop', async () => {
    const second = await fixture.service();
    const nodes: string[] = [];
    const problems: string[] = [];
    for (const consumer of [owner, second]) {
      consumer.nats.subscribe(Subjects.nodeRoleChanged, (event) => nodes.push(event.node.node_id), {
        queue: 'q',
        onDropped: (problem) => problems.push(problem),
      });
    }
    const raw = await fixture.raw();
    await raw.flush();
    for (let i = 0; i < 10; i += 1) raw.publish(Subjects.nodeRoleChanged, bytes(roleChanged(`node-${i}`)));
    const event = roleChanged('bad');
    raw.publish(Subjects.nodeRoleChanged, bytes({ ...event, node: { ...event.node, role: 'boss' } }));
    raw.publish(Subjects.nodeRoleChanged, bytes({ ...event, node: { ...event.node, server_port: '8097' } }));
    await waitFor('ten events and two drops', () => nodes.length === 10 && problems.length === 2);
    expect(nodes.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `node-${i}`).sort());
    // The two bad messages may reach different members of the queue group, in either order.
    expect(problems.sort()).toEqual(['node.role is not server or agent', 'node.server_port is not null or a number']);
  });
});

describe('NatsService handlers that throw', () => {
  it("count the failure and keep the subscription reading (a throw in nats.js's callback would stop it)", async () => {
    const consumer = await fixture.service();
    const heard: number[] = [];
    consumer.nats.subscribe(Subjects.serviceRenewed, (event) => {
      if (event.revision % 2 === 1) throw new Error('handler bug');
      heard.push(event.revision);
    });
    const raw = await fixture.raw();
    await raw.flush();
    for (let revision = 1; revision <= 6; revision += 1) {
      raw.publish(Subjects.serviceRenewed, bytes({ ...registered('h', revision), type: 'service.renewed' }));
    }
    await waitFor('the events after each failure', () => heard.length === 3);
    expect(heard).toEqual([2, 4, 6]);
    expect(await consumer.count('beacon_nats_messages_dropped_total', { subject: Subjects.serviceRenewed, reason: 'handler_failed' })).toBe(
      3,
    );
    // One report for the burst.
    expect(consumer.logs.filter((line) => line.msg === 'a message handler failed; message skipped')).toHaveLength(1);
  });
});

describe('NatsService request and serve', () => {
  it('answers with the handler result, and refusals, bad requests and failures as error documents', async () => {
    const responder = await fixture.service();
    responder.nats.serve(Subjects.registryExpire, ExpireRequest, async (request) => {
      if (request.service_id === '00000000-0000-4000-8000-000000000001') throw new RequestError('not_found', 'no such service');
      if (request.service_id === '00000000-0000-4000-8000-000000000002') throw new Gone('gone');
      if (request.service_id === '00000000-0000-4000-8000-000000000003') throw new Error('disk on fire');
      return { v: 1, expired: true };
    });
    await sleep(50);
    const ask = (service_id: string) =>
      owner.nats.request(Subjects.registryExpire, { service_id, expires_at: '2026-01-01T00:00:00.000Z' }, 2000);
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'answered',
        (error: unknown) => (error as NatsRequestError).code,
      );

    expect(await ask('00000000-0000-4000-8000-000000000000')).toEqual({ v: 1, expired: true });
    expect(await code(ask('not-a-uuid'))).toBe('bad_request');
    expect(await code(ask('00000000-0000-4000-8000-000000000001'))).toBe('not_found');
    expect(await code(ask('00000000-0000-4000-8000-000000000002'))).toBe('not_found');
    expect(await code(ask('00000000-0000-4000-8000-000000000003'))).toBe('internal');
    expect(responder.logs.some((line) => line.msg === 'request handler failed')).toBe(true);
  });

  it('refuses a malformed reply (an impostor answering a snapshot with records consumers would trust), counted', async () => {
    const requester = await fixture.service();
    const raw = await fixture.raw();
    const good = { v: 1, revision: 3, next: null, services: [service('a', 3)] };
    const answers = [good, { ...good, services: [{ ...service('a', 3), tags: 'x' }] }, { ...good, services: 'all' }, 'not an object'];
    let next = 0;
    raw.subscribe(Subjects.registrySnapshot, { callback: (_error, message) => message.respond(bytes(answers[next++ % answers.length])) });
    await raw.flush();
    const ask = () =>
      requester.nats.request(Subjects.registrySnapshot, { limit: 10 }, 2000).then(
        (reply) => reply.services.length,
        (error: unknown) => (error as NatsRequestError).code,
      );
    expect([await ask(), await ask(), await ask(), await ask()]).toEqual([1, 'internal', 'internal', 'internal']);
    const drops = (reason: string) => requester.count('beacon_nats_messages_dropped_total', { subject: Subjects.registrySnapshot, reason });
    expect([await drops('invalid'), await drops('not_json')]).toEqual([2, 1]);
  });

  it('says when nobody answers, and when the answer is late', async () => {
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'answered',
        (error: unknown) => (error as NatsRequestError).code,
      );
    expect(await code(owner.nats.request(Subjects.registrySweep, {}, 1000))).toBe('no_responders');
    const slow = await fixture.service();
    slow.nats.serve(Subjects.registryPurge, null, () => new Promise(() => undefined));
    await sleep(50);
    expect(await code(owner.nats.request(Subjects.registryPurge, { older_than: '2026-01-01T00:00:00Z' }, 200))).toBe('timeout');
  });
});

describe('NatsService and the BEACON_EVENTS stream', () => {
  it('stores a deduplicated event once, and reads the stream from a position, skipping what is malformed', async () => {
    const before = (await owner.nats.eventStreamState())?.lastSeq ?? 0;
    const event = roleChanged('node-a');
    await owner.nats.publishStored(Subjects.nodeRoleChanged, event, { messageId: 'node-a-1', timeoutMs: 2000 });
    await owner.nats.publishStored(Subjects.nodeRoleChanged, event, { messageId: 'node-a-1', timeoutMs: 2000 }); // a retry
    const raw = await fixture.raw();
    await raw.jetstream().publish(Subjects.serviceUpdated, bytes({ v: 1, type: 'service.updated' }));
    await raw.jetstream().publish(Subjects.serviceRegistered, bytes(registered('b', 7)));
    expect((await owner.nats.eventStreamState())?.lastSeq).toBe(before + 3);

    const reader = await owner.nats.followEventStream(before + 1);
    const seen: StoredEvent[] = [];
    for await (const stored of reader) {
      seen.push(stored);
      if (seen.length === 2) break;
    }
    await reader.close();
    expect(seen.map(({ seq, subject }) => [seq, subject])).toEqual([
      [before + 1, Subjects.nodeRoleChanged],
      [before + 3, Subjects.serviceRegistered],
    ]);
    expect(seen[0]?.event).toEqual(event);
    expect(await owner.count('beacon_nats_messages_dropped_total', { subject: EVENTS_STREAM, reason: 'invalid' })).toBe(1);

    const range = await owner.nats.readEventStream(before + 1, before + 2);
    expect(range.map(({ seq }) => seq)).toEqual([before + 1]);
  });

  it('follows the stream live: events stored after the reader started arrive in order', async () => {
    const from = ((await owner.nats.eventStreamState())?.lastSeq ?? 0) + 1;
    const reader = await owner.nats.followEventStream(from);
    const seen: number[] = [];
    const reading = (async () => {
      for await (const stored of reader) if (stored.subject === Subjects.serviceRegistered) seen.push(stored.event.revision);
    })();
    for (const revision of [11, 12, 13]) {
      await owner.nats.publishStored(Subjects.serviceRegistered, registered('c', revision) as never, {
        messageId: `c-${revision}`,
        timeoutMs: 2000,
      });
    }
    await waitFor('three live events', () => seen.length === 3, 5000);
    await reader.close();
    await reading;
    expect(seen).toEqual([11, 12, 13]);
  });

  it('is provisioned by its owner only: another app creates it when absent and otherwise leaves its limits alone', async () => {
    const jsm = await (await fixture.raw()).jetstreamManager();
    const maxAge = async () => (await jsm.streams.info(EVENTS_STREAM)).config.max_age;
    const ownersAge = await maxAge();
    await fixture.service({ eventStream: 'create', maxAgeSeconds: 60 });
    await fixture.service({ eventStream: 'none', maxAgeSeconds: 60 });
    expect(await maxAge()).toBe(ownersAge);

    await jsm.streams.delete(EVENTS_STREAM);
    const reader = await fixture.service();
    expect(await reader.nats.eventStreamState()).toBeNull();
    await fixture.service({ eventStream: 'create', maxAgeSeconds: 60 });
    expect(await reader.nats.eventStreamState()).toEqual({ firstSeq: expect.any(Number), lastSeq: 0 });
    expect(await maxAge()).toBe(60 * 1_000_000_000);
    await fixture.service({ eventStream: 'provision', maxAgeSeconds: 3600 });
    expect(await maxAge()).toBe(ownersAge);
  });
});

describe('NatsService.leaseBucket', () => {
  it('creates if absent, updates by revision, reads, deletes by revision, and reports the TTL the bucket enforces', async () => {
    const bucket = await owner.nats.leaseBucket(`${ELECTION_BUCKET}_test`, { ttlMs: 5000, timeoutMs: 2000 });
    expect(bucket.ttlMs).toBe(5000);
    const first = await bucket.create('server', { node: 'a' });
    await expect(bucket.create('server', { node: 'b' })).rejects.toBeInstanceOf(RevisionConflict);
    const second = await bucket.update('server', { node: 'a', refreshed: true }, first);
    expect(second).toBeGreaterThan(first);
    await expect(bucket.update('server', { node: 'b' }, first)).rejects.toBeInstanceOf(RevisionConflict);
    expect(await bucket.get('server')).toEqual({ revision: second, value: { node: 'a', refreshed: true } });
    await expect(bucket.delete('server', first)).rejects.toBeInstanceOf(RevisionConflict);
    await bucket.delete('server', second);
    expect(await bucket.get('server')).toBeNull();
    // Free again: a create succeeds after a delete.
    expect(await bucket.create('server', { node: 'b' })).toBeGreaterThan(second);

    const other = await (await fixture.service()).nats.leaseBucket(`${ELECTION_BUCKET}_test`, { ttlMs: 9000, timeoutMs: 2000 });
    expect(other.ttlMs).toBe(5000);
  });

  it('reads a key holding something that is not JSON as an undefined value', async () => {
    const bucket = await owner.nats.leaseBucket(`${ELECTION_BUCKET}_raw`, { ttlMs: 5000, timeoutMs: 2000 });
    const kv = await (await fixture.raw()).jetstream().views.kv(`${ELECTION_BUCKET}_raw`, { bindOnly: true });
    const revision = await kv.put('server', bytes('<not json>'));
    expect(await bucket.get('server')).toEqual({ revision, value: undefined });
  });
});
