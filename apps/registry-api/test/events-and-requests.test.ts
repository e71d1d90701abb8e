import { EVENTS_STREAM, Subjects, type Service } from '@beacon/contracts';
import { EventRecorder, fetchJson, requestJson, startRegistry, waitFor, type RegistryFixture } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Event {
  v: number;
  type: string;
  timestamp: string;
  revision: number;
  service: Service;
  reason?: string;
}

let registry: RegistryFixture;
let events: EventRecorder<Event>;
let client: NatsConnection;
/** Registered first with the shortest TTL, so they are due by the time the expiry scenario runs. */
const shortLived: Service[] = [];

const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A request as any NATS client would send it: plain JSON in, plain JSON out. */
const request = <T = Record<string, unknown>>(subject: string, payload: unknown): Promise<T> => requestJson<T>(client, subject, payload);

const eventsFor = (serviceId: string): Event[] =>
  events.messages.filter((message) => message.data.service?.service_id === serviceId).map((message) => message.data);

beforeAll(async () => {
  registry = await startRegistry();
  events = await EventRecorder.start<Event>(registry.nats.url, 'beacon.events.>');
  client = await connect({ servers: registry.nats.url });
  for (let index = 0; index < 5; index += 1) {
    shortLived.push(await registry.register({ name: unique('short'), host: '10.9.0.1', port: 7000 + index, ttl: 10 }));
  }
});

afterAll(async () => {
  await events?.close();
  await client?.close();
  await registry?.dispose();
});

describe('events', () => {
  it('publishes each mutation once, after storing it, with a growing revision', async () => {
    const name = unique('evt');
    const created = await registry.register({ name, host: '10.0.0.1', port: 80, tags: ['a'] });
    const again = await registry.register({ name, host: '10.0.0.1', port: 80, tags: ['a', 'b'] });
    expect(again.service_id).toBe(created.service_id);
    await fetchJson('PUT', `${registry.base}/services/${created.service_id}/heartbeat`);
    await fetchJson('PUT', `${registry.base}/services/${created.service_id}`, { version: '2.0.0' });
    const removed = await fetchJson('DELETE', `${registry.base}/services/${created.service_id}`);
    expect(removed.status).toBe(204);

    const seen = await waitFor('five events', () => {
      const found = eventsFor(created.service_id);
      return found.length >= 5 ? found : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more should arrive
    const all = eventsFor(created.service_id);
    expect(all.map((event) => event.type)).toEqual([
      'service.registered',
      'service.updated',
      'service.renewed',
      'service.updated',
      'service.deregistered',
    ]);
    expect(seen[0]?.revision).toBe(created.revision);
    const revisions = all.map((event) => event.revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(all[3]?.service.version).toBe('2.0.0');
    expect(all[4]?.reason).toBe('deregistered');
  });

  it('puts events on the wire as plain versioned JSON with no framework envelope', async () => {
    const service = await registry.register({ name: unique('wire'), host: '10.0.0.2', port: 81 });
    const [event] = await waitFor('registered event', () => {
      const found = eventsFor(service.service_id);
      return found.length > 0 ? found : undefined;
    });
    expect(Object.keys(event ?? {}).sort()).toEqual(['revision', 'service', 'timestamp', 'type', 'v']);
    expect(event).toMatchObject({ v: 1, type: 'service.registered', revision: service.revision, service });
    expect(Date.parse(event?.timestamp ?? '')).not.toBeNaN();
  });

  it('keeps catalog changes in the BEACON_EVENTS stream, but not heartbeats', async () => {
    const service = await registry.register({ name: unique('stream'), host: '10.0.0.3', port: 82 });
    await fetchJson('PUT', `${registry.base}/services/${service.service_id}/heartbeat`);
    const jsm = await client.jetstreamManager();
    const info = await jsm.streams.info(EVENTS_STREAM);
    expect(info.config.subjects).toContain(Subjects.serviceRegistered);
    expect(info.config.subjects).not.toContain(Subjects.serviceRenewed);
    expect(info.config.subjects).not.toContain(Subjects.probeResult);
    const stored = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: Subjects.serviceRegistered });
    expect((JSON.parse(new TextDecoder().decode(stored.data)) as { service: Service }).service.service_id).toBe(service.service_id);
  });
});

describe('beacon.registry.snapshot', () => {
  it('pages the whole catalog with a cursor, each service exactly once', async () => {
    for (let index = 0; index < 12; index += 1) await registry.register({ name: unique('snap'), host: '10.1.0.1', port: 9000 + index });
    const ids: string[] = [];
    let after: string | null = null;
    let pages = 0;
    let firstRevision = 0;
    do {
      const page: { v: number; revision: number; services: Service[]; next: string | null } = await request(
        Subjects.registrySnapshot,
        after ? { after, limit: 5 } : { limit: 5 },
      );
      if (pages === 0) firstRevision = page.revision;
      expect(page.services.length).toBeLessThanOrEqual(5);
      ids.push(...page.services.map((service) => service.service_id));
      after = page.next;
      pages += 1;
    } while (after && pages < 100);
    const listed = await fetchJson<{ total: number }>('GET', `${registry.base}/services?limit=1`);
    expect(ids.length).toBe(listed.body.total);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(firstRevision).toBeGreaterThan(0);
  });

  it('refuses a cursor it did not hand out', async () => {
    const reply = await request<{ error: { code: string; message: string } }>(Subjects.registrySnapshot, { after: 'not-a-cursor' });
    expect(reply.error.code).toBe('bad_request');
    expect(reply.error.message).toMatch(/cursor/);
  });

  it('answers a malformed request with an error document', async () => {
    const reply = await request<{ error: { code: string; message: string } }>(Subjects.registrySnapshot, { limit: 'lots', extra: 1 });
    expect(reply.error.code).toBe('bad_request');
    expect(reply.error.message).toMatch(/limit/);
    expect(reply.error.message).toMatch(/extra/);
    const notJson = await client.request(Subjects.registrySnapshot, new TextEncoder().encode('{nope'), { timeout: 5000 });
    expect((JSON.parse(new TextDecoder().decode(notJson.data)) as { error: { code: string } }).error.code).toBe('bad_request');
  });
});

describe('expiry over NATS', () => {
  const waitUntilDue = async (): Promise<void> => {
    const last = Math.max(...shortLived.map((service) => Date.parse(service.expires_at)));
    await waitFor('short-lived services to be due', () => Date.now() > last + 50, 20_000, 100);
  };

  // One scenario over the same five due services: each step's counts (the sweep's and the
  // purge's) follow from what the steps before it did, so they cannot run alone.
  it('reads a due record as expired before anyone marks it, expires conditionally, then sweeps and purges the rest once', async () => {
    await waitUntilDue();
    // A record past expires_at reads as expired before anyone marks it.
    const [unmarked] = shortLived;
    const read = await fetchJson<Service>('GET', `${registry.base}/services/${unmarked?.service_id}`);
    expect(read.body.status).toBe('expired');
    expect(eventsFor(unmarked?.service_id ?? '').some((event) => event.type === 'service.expired')).toBe(false);

    // Expiry is conditional: a stale expires_at or a renewed record is left alone.
    const [, target, renewed] = shortLived as [Service, Service, Service];
    const wrong = await request<{ expired: boolean }>(Subjects.registryExpire, {
      service_id: target.service_id,
      expires_at: new Date(Date.parse(target.expires_at) - 1000).toISOString(),
    });
    expect(wrong.expired).toBe(false);

    const first = await request<{ expired: boolean }>(Subjects.registryExpire, {
      service_id: target.service_id,
      expires_at: target.expires_at,
    });
    const second = await request<{ expired: boolean }>(Subjects.registryExpire, {
      service_id: target.service_id,
      expires_at: target.expires_at,
    });
    expect([first.expired, second.expired]).toEqual([true, false]);
    await events.waitForCount(Subjects.serviceExpired, 1);
    expect(eventsFor(target.service_id).filter((event) => event.type === 'service.expired')).toHaveLength(1);

    // A heartbeat that lands first wins over the reaper's stale view.
    await fetchJson('PUT', `${registry.base}/services/${renewed.service_id}/heartbeat`);
    const raced = await request<{ expired: boolean }>(Subjects.registryExpire, {
      service_id: renewed.service_id,
      expires_at: renewed.expires_at,
    });
    expect(raced.expired).toBe(false);
    const afterRace = await fetchJson<Service>('GET', `${registry.base}/services/${renewed.service_id}`);
    expect(afterRace.body.status).toBe('active');

    // A sweep expires everything due once, and a purge removes what expired before the cutoff.
    const [, , , fourth, fifth] = shortLived;
    const sweep = await request<{ expired: number }>(Subjects.registrySweep, { now: new Date().toISOString() });
    expect(sweep.expired).toBeGreaterThanOrEqual(3); // first, fourth, fifth (second was expired above, third renewed)
    const again = await request<{ expired: number }>(Subjects.registrySweep, {});
    expect(again.expired).toBe(0);
    // The reply can arrive before the events it caused: wait for them, then count.
    const expiredEvents = (service: Service | undefined) =>
      eventsFor(service?.service_id ?? '').filter((event) => event.type === 'service.expired');
    await waitFor('expired events of the swept services', () => [fourth, fifth].every((service) => expiredEvents(service).length > 0));
    for (const service of [fourth, fifth]) expect(expiredEvents(service)).toHaveLength(1);

    const none = await request<{ removed: number }>(Subjects.registryPurge, { older_than: new Date(Date.now() - 3_600_000).toISOString() });
    expect(none.removed).toBe(0);
    const purge = await request<{ removed: number }>(Subjects.registryPurge, { older_than: new Date().toISOString() });
    expect(purge.removed).toBe(4);
    const gone = await fetchJson('GET', `${registry.base}/services/${fourth?.service_id}`);
    expect(gone.status).toBe(404);
    await waitFor('purge events', () => eventsFor(fifth?.service_id ?? '').some((event) => event.reason === 'purged'));
  });

  it('refuses malformed expire and purge requests', async () => {
    const badExpire = await request<{ error: { code: string; message: string } }>(Subjects.registryExpire, {
      service_id: 'x',
      expires_at: 'soon',
    });
    expect(badExpire.error.code).toBe('bad_request');
    expect(badExpire.error.message).toMatch(/service_id/);
    expect(badExpire.error.message).toMatch(/expires_at/);
    const badPurge = await request<{ error: { code: string } }>(Subjects.registryPurge, {});
    expect(badPurge.error.code).toBe('bad_request');
  });
});
