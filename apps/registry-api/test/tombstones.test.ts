import { Subjects, type ErrorResponse, type Service, type ServiceListResponse } from '@beacon/contracts';
import { fetchJson, requestJson, startRegistry, waitFor, type RegistryFixture } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * An operator's DELETE leaves a tombstone: the deleted service's next heartbeat gets 410
 * Gone (so a client stops instead of registering again and undoing the delete), while an
 * id nobody knows, or one the TTL reaper purged, keeps getting 404. Real registry-api
 * processes on SQLite files, a real nats-server, kill -9.
 */
let registry: RegistryFixture;
/** Short-lived, capped tombstones. */
let brief: RegistryFixture;

const TOMBSTONE_CAP = 3;

beforeAll(async () => {
  [registry, brief] = await Promise.all([
    startRegistry(),
    startRegistry({ env: { BEACON_TOMBSTONE_TTL: '2s', BEACON_TOMBSTONE_MAX: String(TOMBSTONE_CAP) } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([registry?.dispose(), brief?.dispose()]);
});

const heartbeat = (on: RegistryFixture, id: string) => fetchJson<ErrorResponse>('PUT', `${on.base}/services/${id}/heartbeat`);
const remove = (on: RegistryFixture, id: string) => fetchJson('DELETE', `${on.base}/services/${id}`);

/** The catalog revision, from an export's header (the same read the export-import suite uses). */
async function revisionOf(on: RegistryFixture): Promise<number> {
  const text = await (await fetch(`${on.api.url}/api/v1/export`)).text();
  return (JSON.parse(text.slice(0, text.indexOf('\n'))) as { revision: number }).revision;
}

async function tombstoneGauge(on: RegistryFixture): Promise<number> {
  const text = await (await fetch(`${on.api.url}/metrics`)).text();
  const match = /^beacon_tombstones(?:\{[^}]*\})? (\d+)$/m.exec(text);
  if (!match) throw new Error('no beacon_tombstones in /metrics');
  return Number(match[1]);
}

async function exportLines(on: RegistryFixture): Promise<Record<string, unknown>[]> {
  const text = await (await fetch(`${on.api.url}/api/v1/export`)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('a heartbeat after an operator DELETE', () => {
  let deleted: Service;

  it('answers 410 with a detail naming the service, the time and the route, and changes nothing', async () => {
    deleted = await registry.register({ name: 'tomb-a', type: 'sensor', host: '10.40.0.1', port: 8080 });
    const startedDeleting = Date.now();
    expect((await remove(registry, deleted.service_id)).status).toBe(204);
    const revision = await revisionOf(registry);

    const gone = await heartbeat(registry, deleted.service_id);
    expect(gone.status).toBe(410);
    expect(gone.body.detail).toContain(`Service ${deleted.service_id} (tomb-a) was deregistered at `);
    expect(gone.body.detail).toContain(`by DELETE /api/v1/services/${deleted.service_id}; register it again to bring it back`);
    const when = /deregistered at (\S+) by/.exec(gone.body.detail)?.[1] ?? '';
    expect(Date.parse(when)).toBeGreaterThanOrEqual(startedDeleting - 1000);

    // Nothing came back: no record, no revision, nothing listed.
    expect(await revisionOf(registry)).toBe(revision);
    const get = await fetchJson<ErrorResponse>('GET', `${registry.base}/services/${deleted.service_id}`);
    expect(get.status).toBe(404);
    expect(get.body.detail).toMatch(new RegExp(`^Service ${deleted.service_id} not found: it was deregistered at `));
    const list = await fetchJson<ServiceListResponse>('GET', `${registry.base}/services?name=tomb-a`);
    expect(list.body.total).toBe(0);
    // An update is no heartbeat: it stays 404, naming the deletion.
    const update = await fetchJson<ErrorResponse>('PUT', `${registry.base}/services/${deleted.service_id}`, { version: '2' });
    expect(update.status).toBe(404);
    expect(update.body.detail).toContain('was deregistered at');
    // A second DELETE: 404, the service is not there to delete.
    expect((await remove(registry, deleted.service_id)).status).toBe(404);
    expect(await tombstoneGauge(registry)).toBe(1);
  });

  it('answers 404 for an id nobody registered', async () => {
    const unknown = await heartbeat(registry, '00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('Service 00000000-0000-4000-8000-000000000000 not found');
  });

  it('keeps the tombstone across kill -9 and a restart (it is stored with the delete)', async () => {
    const second = await registry.register({ name: 'tomb-killed', host: '10.40.0.2', port: 1 });
    expect((await remove(registry, second.service_id)).status).toBe(204);
    expect(await registry.api.stop('SIGKILL')).toBe('SIGKILL');
    await registry.restart();
    for (const id of [deleted.service_id, second.service_id]) expect((await heartbeat(registry, id)).status, id).toBe(410);
    expect(await tombstoneGauge(registry)).toBe(2);
  });

  it('exports the tombstones, and an import into an empty store restores them (410 there too)', async () => {
    const lines = await exportLines(registry);
    const tombstones = lines.filter((line) => line.kind === 'tombstone');
    expect(tombstones).toHaveLength(2);
    expect(tombstones.map((line) => line.name).sort()).toEqual(['tomb-a', 'tomb-killed']);
    expect(tombstones.find((line) => line.service_id === deleted.service_id)).toMatchObject({
      name: 'tomb-a',
      type: 'sensor',
      host: '10.40.0.1',
      port: 8080,
      instance_id: null,
      reason: 'delete',
    });
    expect(lines.at(-1)).toMatchObject({ kind: 'end', tombstones: 2 });

    const target = await startRegistry();
    try {
      const body = lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
      const imported = await fetchJson<Record<string, unknown>>('POST', `${target.api.url}/api/v1/import`, undefined, {
        raw: body,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(imported.status, imported.text).toBe(200);
      expect(imported.body).toMatchObject({ tombstones: 2 });
      const gone = await heartbeat(target, deleted.service_id);
      expect(gone.status).toBe(410);
      expect(gone.body.detail).toContain('(tomb-a) was deregistered at');
      expect(await tombstoneGauge(target)).toBe(2);
    } finally {
      await target.dispose();
    }
  });

  it('is cleared by an explicit registration of the same identity: the same id is back and heartbeats work', async () => {
    const again = await registry.register({ name: 'tomb-a', type: 'sensor', host: '10.40.0.1', port: 8080 });
    expect(again.service_id).toBe(deleted.service_id);
    expect((await heartbeat(registry, deleted.service_id)).status).toBe(200);
    expect(await tombstoneGauge(registry)).toBe(1);
    // Cleared for good: after a restart the record is there and the tombstone is not.
    await registry.api.stop('SIGKILL');
    await registry.restart();
    expect((await heartbeat(registry, deleted.service_id)).status).toBe(200);
    expect(await tombstoneGauge(registry)).toBe(1);
  });
});

describe("the TTL reaper's purge is not an operator's delete", () => {
  it('answers 404, not 410, for a service that expired and was purged', async () => {
    const lapsing = await registry.register({ name: 'tomb-lapsed', host: '10.40.0.3', port: 1, ttl: 10 });
    await waitFor('the TTL to pass', () => Date.parse(lapsing.expires_at) < Date.now() - 50, 20_000, 200);
    const swept = await requestJson<{ expired: number }>(registry.nats.url, Subjects.registrySweep, {});
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    const purged = await requestJson<{ removed: number }>(registry.nats.url, Subjects.registryPurge, {
      older_than: new Date().toISOString(),
    });
    expect(purged.removed).toBeGreaterThanOrEqual(1);
    const answer = await heartbeat(registry, lapsing.service_id);
    expect(answer.status).toBe(404);
    expect(answer.body.detail).toBe(`Service ${lapsing.service_id} not found`);
  }, 40_000);
});

describe("seed 004's unregister", () => {
  const v1 = (path: string): string => `${registry.api.url}/v1/discovery${path}`;
  const identity = { service_name: 'tomb-v1', instance_id: 'i-1' };

  it('leaves a tombstone: its heartbeat gets 410; an unknown instance keeps 404; registering again brings it back', async () => {
    const registered = await fetchJson<{ service_id: string }>('POST', v1('/register'), { ...identity, host: '10.40.0.4', port: 80 });
    expect(registered.status).toBe(200);
    expect((await fetchJson('DELETE', v1('/unregister/tomb-v1/i-1'))).status).toBe(200);

    const gone = await fetchJson<ErrorResponse>('POST', v1('/heartbeat'), identity);
    expect(gone.status).toBe(410);
    expect(gone.body.detail).toContain(`Service ${registered.body.service_id} (tomb-v1) was deregistered at`);
    expect(gone.body.detail).toContain('by DELETE /v1/discovery/unregister/tomb-v1/i-1');
    // The REST heartbeat of the same id says the same.
    expect((await heartbeat(registry, registered.body.service_id)).status).toBe(410);

    const unknown = await fetchJson<ErrorResponse>('POST', v1('/heartbeat'), { service_name: 'tomb-v1', instance_id: 'i-2' });
    expect(unknown.status).toBe(404);

    const back = await fetchJson<{ service_id: string }>('POST', v1('/register'), { ...identity, host: '10.40.0.4', port: 80 });
    expect(back.body.service_id).toBe(registered.body.service_id);
    expect((await fetchJson('POST', v1('/heartbeat'), identity)).status).toBe(200);
  });
});

describe('bounds: BEACON_TOMBSTONE_MAX and BEACON_TOMBSTONE_TTL', () => {
  it('keeps at most the cap, dropping the oldest first (their heartbeats get 404 again)', async () => {
    const services: Service[] = [];
    for (let index = 0; index < TOMBSTONE_CAP + 2; index += 1) {
      const service = await brief.register({ name: `capped-${index}`, host: '10.41.0.1', port: 100 + index });
      expect((await remove(brief, service.service_id)).status).toBe(204);
      services.push(service);
    }
    expect(await tombstoneGauge(brief)).toBe(TOMBSTONE_CAP);
    const statuses = await Promise.all(services.map(async (service) => (await heartbeat(brief, service.service_id)).status));
    expect(statuses).toEqual([404, 404, 410, 410, 410]);
  });

  it('forgets a tombstone once its TTL passes (404), and the periodic purge removes it', async () => {
    const service = await brief.register({ name: 'short-tomb', host: '10.41.0.2', port: 1 });
    expect((await remove(brief, service.service_id)).status).toBe(204);
    expect((await heartbeat(brief, service.service_id)).status).toBe(410);
    await waitFor('the 2 s tombstone TTL to pass', async () => (await heartbeat(brief, service.service_id)).status === 404, 15_000, 250);
    expect(await tombstoneGauge(brief)).toBeGreaterThan(0);
    // The reaper's periodic purge (over NATS) takes expired tombstones with it.
    await requestJson(brief.nats.url, Subjects.registryPurge, { older_than: new Date().toISOString() });
    expect(await tombstoneGauge(brief)).toBe(0);
  }, 30_000);

  it('leaves none with BEACON_TOMBSTONE_TTL=0: a deleted service is unknown (404) at once', async () => {
    await brief.api.stop();
    await brief.restart({ BEACON_TOMBSTONE_TTL: '0' });
    const service = await brief.register({ name: 'no-tomb', host: '10.41.0.3', port: 1 });
    expect((await remove(brief, service.service_id)).status).toBe(204);
    expect((await heartbeat(brief, service.service_id)).status).toBe(404);
    expect(await tombstoneGauge(brief)).toBe(0);
  });
});
