import type { ErrorResponse, Service } from '@beacon/contracts';
import { fetchJson, startRegistry, type RegistryFixture } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * An adversarial review of tombstones: races between an operator's DELETE and the deleted
 * service's own traffic, crash consistency, hostile imports. Real registry-api processes on
 * SQLite files, a real nats-server, kill -9.
 */
let registry: RegistryFixture;

beforeAll(async () => {
  registry = await startRegistry();
}, 60_000);

afterAll(async () => {
  await registry?.dispose();
});

const heartbeat = (id: string) => fetchJson<ErrorResponse>('PUT', `${registry.base}/services/${id}/heartbeat`);
const remove = (id: string) => fetchJson('DELETE', `${registry.base}/services/${id}`);

async function registerMany(prefix: string, count: number): Promise<Service[]> {
  const services: Service[] = [];
  // A few at a time: the point is the race below, not the registrations.
  for (let start = 0; start < count; start += 25) {
    const batch = Array.from({ length: Math.min(25, count - start) }, (_, offset) =>
      registry.register({ name: `${prefix}-${start + offset}`, host: '10.50.0.1', port: 1000 + start + offset }),
    );
    services.push(...(await Promise.all(batch)));
  }
  return services;
}

describe('a heartbeat racing the DELETE of its service', () => {
  it('gets 200 (before the delete) or 410 (after it), never 404: a 404 tells the client to register again', async () => {
    const services = await registerMany('race-hb', 150);
    // Each DELETE and the service's heartbeat are in flight together, as a client heartbeating while an operator deletes it.
    const outcomes = await Promise.all(
      services.map(async (service) => {
        const [deleted, beat] = await Promise.all([remove(service.service_id), heartbeat(service.service_id)]);
        return { id: service.service_id, deleted: deleted.status, beat: beat.status };
      }),
    );
    expect(outcomes.filter((outcome) => outcome.deleted !== 204)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.beat !== 200 && outcome.beat !== 410)).toEqual([]);
    // And afterwards every one of them is gone with a tombstone.
    const after = await Promise.all(services.map(async (service) => (await heartbeat(service.service_id)).status));
    expect(new Set(after)).toEqual(new Set([410]));
  }, 60_000);
});

describe('a registration racing the DELETE of the same identity', () => {
  it('takes the same service_id back (or finds it still there): never a second id for one identity', async () => {
    const services = await registerMany('race-reg', 150);
    const outcomes = await Promise.all(
      services.map(async (service) => {
        const [deleted, again] = await Promise.all([
          remove(service.service_id),
          fetchJson<Service>('POST', `${registry.base}/services/register`, { name: service.name, host: service.host, port: service.port }),
        ]);
        return { id: service.service_id, deleted: deleted.status, registered: again.status, againId: again.body.service_id };
      }),
    );
    expect(outcomes.filter((outcome) => outcome.deleted !== 204 || outcome.registered !== 201)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.againId !== outcome.id)).toEqual([]);
    // Whichever came last won, consistently: live (heartbeat 200, GET 200) or deleted (heartbeat 410, GET 404), never both.
    for (const service of services) {
      const [beat, get] = await Promise.all([
        heartbeat(service.service_id),
        fetchJson('GET', `${registry.base}/services/${service.service_id}`),
      ]);
      expect([beat.status, get.status], service.service_id).toSatisfy(
        ([b, g]: number[]) => (b === 200 && g === 200) || (b === 410 && g === 404),
      );
    }
  }, 60_000);
});

describe('hostile tombstone lines in an import', () => {
  const HOUR = 3_600_000;
  const header = (): string =>
    JSON.stringify({ kind: 'beacon-export', v: 1, revision: 1, exported_at: new Date().toISOString(), backend: 'sqlite' });
  const tombstoneLine = (id: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      kind: 'tombstone',
      service_id: id,
      name: 'hostile',
      type: 'http',
      host: '10.60.0.1',
      port: 80,
      instance_id: null,
      deleted_at: Date.now() - 1000,
      expires_at: Date.now() + HOUR,
      reason: 'delete',
      ...extra,
    });
  const importLines = (...lines: string[]) =>
    fetchJson<Record<string, unknown>>('POST', `${registry.api.url}/api/v1/import?merge=true`, undefined, {
      raw: [header(), ...lines, JSON.stringify({ kind: 'end', services: 0, checks: 0, tombstones: lines.length })].join('\n') + '\n',
      headers: { 'content-type': 'application/x-ndjson' },
    });

  it('refuses a deletion time that is no date (past year 275760) with a 400 naming the line and field; nothing imported', async () => {
    const id = '0b7e0a55-0000-4000-8000-000000000001';
    const answer = await importLines(
      tombstoneLine('0b7e0a55-0000-4000-8000-000000000002'),
      tombstoneLine(id, { deleted_at: 9e15, expires_at: 9e15 + 1 }),
    );
    expect(answer.status, answer.text).toBe(400);
    expect(String(answer.body.detail)).toMatch(/line 3: field "deleted_at"/);
    // Nothing imported: neither line's id is known, and a heartbeat is a plain 404 (no 500 rendering a date that is none).
    for (const unknown of [id, '0b7e0a55-0000-4000-8000-000000000002']) expect((await heartbeat(unknown)).status).toBe(404);
  });

  it('refuses a tombstone that expires before it was made', async () => {
    const answer = await importLines(
      tombstoneLine('0b7e0a55-0000-4000-8000-000000000003', { deleted_at: Date.now() + 2 * HOUR, expires_at: Date.now() + HOUR }),
    );
    expect(answer.status, answer.text).toBe(400);
    expect(String(answer.body.detail)).toMatch(/line 2: field "expires_at"/);
  });

  it('keeps an imported tombstone no longer than this registry keeps its own (BEACON_TOMBSTONE_TTL, 24 h here)', async () => {
    const id = '0b7e0a55-0000-4000-8000-000000000004';
    const answer = await importLines(tombstoneLine(id, { expires_at: Date.parse('2999-01-01T00:00:00Z') }));
    expect(answer.status, answer.text).toBe(200);
    expect((await heartbeat(id)).status).toBe(410);
    const text = await (await fetch(`${registry.api.url}/api/v1/export`)).text();
    const line = text
      .split('\n')
      .filter((each) => each.includes(id))
      .map((each) => JSON.parse(each) as { expires_at: number })[0];
    expect(line?.expires_at).toBeLessThanOrEqual(Date.now() + 24 * HOUR);
  });
});

describe('kill -9 with many deletes in flight', () => {
  it('after a restart every deleted service is either still there (its delete not acknowledged) or tombstoned: a 204 always left its tombstone', async () => {
    const victim = await startRegistry();
    try {
      const services: Service[] = [];
      for (let start = 0; start < 300; start += 25) {
        const batch = Array.from({ length: 25 }, (_, offset) =>
          victim.register({ name: `crash-${start + offset}`, host: '10.70.0.1', port: 1000 + start + offset }),
        );
        services.push(...(await Promise.all(batch)));
      }
      const acknowledged = new Set<string>();
      const kills: Promise<unknown>[] = [];
      await Promise.all(
        services.map(async (service) => {
          const answer = await fetch(`${victim.base}/services/${service.service_id}`, { method: 'DELETE' }).catch(() => null);
          if (answer?.status === 204) acknowledged.add(service.service_id);
          // Kill once some deletes are acknowledged and the rest are still in flight.
          if (acknowledged.size >= 40 && kills.length === 0) kills.push(victim.api.stop('SIGKILL'));
        }),
      );
      await Promise.all(kills);
      expect(acknowledged.size).toBeGreaterThanOrEqual(40);
      await victim.restart();
      const after = await Promise.all(
        services.map(async (service) => {
          const beat = await fetchJson('PUT', `${victim.base}/services/${service.service_id}/heartbeat`);
          return { id: service.service_id, acked: acknowledged.has(service.service_id), status: beat.status };
        }),
      );
      expect(after.filter((each) => each.acked && each.status !== 410)).toEqual([]);
      expect(after.filter((each) => each.status !== 200 && each.status !== 410)).toEqual([]);
    } finally {
      await victim.dispose();
    }
  }, 90_000);
});

describe('BEACON_TOMBSTONE_TTL lowered (or 0) over tombstones already stored', () => {
  it('answers as the running configuration says: with 0 ("no tombstones") a service deleted before the restart gets 404, not 410', async () => {
    const own = await startRegistry();
    try {
      const service = await own.register({ name: 'ttl-lowered', host: '10.75.0.1', port: 1 });
      const unregistered = await fetchJson<{ service_id: string }>('POST', `${own.api.url}/v1/discovery/register`, {
        service_name: 'ttl-lowered-v1',
        instance_id: 'i-1',
        host: '10.75.0.2',
        port: 1,
      });
      const deletedBy = Date.now();
      expect((await fetchJson('DELETE', `${own.base}/services/${service.service_id}`)).status).toBe(204);
      expect((await fetchJson('DELETE', `${own.api.url}/v1/discovery/unregister/ttl-lowered-v1/i-1`)).status).toBe(200);
      expect((await fetchJson('PUT', `${own.base}/services/${service.service_id}/heartbeat`)).status).toBe(410);
      await own.api.stop();
      await own.restart({ BEACON_TOMBSTONE_TTL: '0' });
      expect((await fetchJson('PUT', `${own.base}/services/${service.service_id}/heartbeat`)).status).toBe(404);
      expect((await fetchJson('PUT', `${own.base}/services/${unregistered.body.service_id}/heartbeat`)).status).toBe(404);
      const v1 = await fetchJson('POST', `${own.api.url}/v1/discovery/heartbeat`, { service_name: 'ttl-lowered-v1', instance_id: 'i-1' });
      expect(v1.status).toBe(404);
      await own.api.stop();
      // Lowered to 1 s: a deletion older than that is forgotten too.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, deletedBy + 1500 - Date.now())));
      await own.restart({ BEACON_TOMBSTONE_TTL: '1' });
      expect((await fetchJson('PUT', `${own.base}/services/${service.service_id}/heartbeat`)).status).toBe(404);
    } finally {
      await own.dispose();
    }
  }, 60_000);
});

describe('a burst of deletes past BEACON_TOMBSTONE_MAX', () => {
  it('keeps exactly the cap, the newest deletions, whatever the group commits hold', async () => {
    const CAP = 50;
    const own = await startRegistry({ env: { BEACON_TOMBSTONE_MAX: String(CAP) } });
    try {
      const services: Service[] = [];
      for (let start = 0; start < 600; start += 50) {
        const batch = Array.from({ length: 50 }, (_, offset) =>
          own.register({ name: `burst-${start + offset}`, host: '10.76.0.1', port: 1000 + start + offset }),
        );
        services.push(...(await Promise.all(batch)));
      }
      // Two waves, so the second wave's deletions are the newest, whatever order each wave commits in.
      const [older, newer] = [services.slice(0, 500), services.slice(500)];
      for (const wave of [older, newer]) {
        const statuses = await Promise.all(
          wave.map(async (service) => (await fetchJson('DELETE', `${own.base}/services/${service.service_id}`)).status),
        );
        expect(new Set(statuses)).toEqual(new Set([204]));
      }
      const metrics = await (await fetch(`${own.api.url}/metrics`)).text();
      expect(/^beacon_tombstones(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1]).toBe(String(CAP));
      const beats = async (wave: Service[]) =>
        Promise.all(wave.map(async (service) => (await fetchJson('PUT', `${own.base}/services/${service.service_id}/heartbeat`)).status));
      expect((await beats(older)).filter((status) => status === 410)).toHaveLength(0);
      expect((await beats(newer)).filter((status) => status === 410)).toHaveLength(CAP);
    } finally {
      await own.dispose();
    }
  }, 120_000);
});
