import { Subjects, type HealthChecksResponse, type RegistryStatsResponse, type Service, type ServiceListResponse } from '@beacon/contracts';
import { fetchJson, probeResult, publishProbeResult, requestJson, startRegistry, waitFor, type RegistryFixture } from '@beacon/testing';
import { connect } from 'nats';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Export → import between two real registry-api processes on two SQLite files: the
 * second must then serve exactly the first's catalog (records, check histories, revision).
 */
let source: RegistryFixture;
let target: RegistryFixture;
let exported = '';

const NDJSON = { 'content-type': 'application/x-ndjson' };

async function importInto(registry: RegistryFixture, body: string, query = '', headers: Record<string, string> = NDJSON) {
  return fetchJson<Record<string, unknown>>('POST', `${registry.base.replace('/api/v1', '')}/api/v1/import${query}`, undefined, {
    raw: body,
    headers,
  });
}

async function exportOf(registry: RegistryFixture, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${registry.api.url}/api/v1/export`, { headers });
}

/** Every service (by id, as GET answers it) and its check history. */
async function catalogOf(registry: RegistryFixture): Promise<Map<string, { service: Service; checks: HealthChecksResponse }>> {
  const list = await fetchJson<ServiceListResponse>('GET', `${registry.base}/services?limit=100&skip=0`);
  const more = await fetchJson<ServiceListResponse>('GET', `${registry.base}/services?limit=100&skip=100`);
  const catalog = new Map<string, { service: Service; checks: HealthChecksResponse }>();
  for (const listed of [...list.body.services, ...more.body.services]) {
    const one = await fetchJson<Service>('GET', `${registry.base}/services/${listed.service_id}`);
    const checks = await fetchJson<HealthChecksResponse>('GET', `${registry.base}/services/${listed.service_id}/health-checks?limit=100`);
    catalog.set(listed.service_id, { service: one.body, checks: checks.body });
  }
  expect(catalog.size).toBe(list.body.total);
  return catalog;
}

/** The catalog revision, from an export's header (`/stats` reuses its answer for a second). */
async function revisionOf(registry: RegistryFixture): Promise<number> {
  const text = await (await exportOf(registry)).text();
  return (JSON.parse(text.slice(0, text.indexOf('\n'))) as { revision: number }).revision;
}

const lines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  // Two that expire soon; the sweep marks them expired in the store.
  await source.register({ name: 'soon-swept', host: '10.1.0.1', port: 1, ttl: 10 });
  const lapsed = await source.register({ name: 'soon-lapsed', host: '10.1.0.1', port: 2, ttl: 10 });
  const checked = await source.register({
    name: 'checked',
    host: '10.1.0.2',
    port: 8080,
    tags: ['edge', 'esp32'],
    metadata: { room: 'kitchen', 'a.b': '$x' },
    version: '1.2.3',
    node_id: 'node-a',
    health_check_url: 'http://10.1.0.2:8080/health',
    mdns_txt_records: { path: '/' },
  });
  const instance = await fetchJson<{ service_id: string }>('POST', `${source.api.url}/v1/discovery/register`, {
    service_name: 'sensor',
    instance_id: 'esp-1',
    host: '10.1.0.3',
    port: 80,
    metadata: { fw: '7' },
  });
  expect(instance.status).toBe(200);
  const maintained = await source.register({ name: 'maintained', host: '10.1.0.4', port: 9 });
  expect((await fetchJson('PUT', `${source.base}/services/${maintained.service_id}`, { status: 'inactive' })).status).toBe(200);
  // Enough records that the export passes the 64 KiB every other route accepts.
  await Promise.all(
    Array.from({ length: 90 }, (_, index) =>
      source.register({
        name: `bulk-${index % 7}`,
        host: '10.2.0.1',
        port: 1000 + index,
        tags: [`t${index % 5}`],
        metadata: { i: String(index) },
      }),
    ),
  );
  const nats = await connect({ servers: source.nats.url });
  for (const [offset, outcome] of (['healthy', 'degraded', 'unhealthy'] as const).entries()) {
    publishProbeResult(
      nats,
      probeResult(checked, {
        health: outcome,
        outcome,
        ok: outcome === 'healthy',
        checked_at: new Date(Date.now() - 3000 + offset * 1000).toISOString(),
      }),
    );
  }
  await waitFor('3 checks stored', async () => {
    const history = await fetchJson<HealthChecksResponse>('GET', `${source.base}/services/${checked.service_id}/health-checks`);
    return history.body.total === 3;
  });
  await waitFor('the short TTLs to pass', () => Date.parse(lapsed.expires_at) < Date.now() - 50, 15_000, 200);
  const sweep = await requestJson<{ expired: number }>(nats, Subjects.registrySweep, {});
  expect(sweep.expired).toBeGreaterThanOrEqual(2);
  await nats.close();
}, 60_000);

afterAll(async () => {
  await Promise.all([source?.dispose(), target?.dispose()]);
});

describe('GET /api/v1/export', () => {
  it('streams the catalog as JSON lines: header, every stored record, check histories, end', async () => {
    const response = await exportOf(source);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    exported = await response.text();
    expect(exported.length).toBeGreaterThan(64 * 1024);
    const all = lines(exported);
    const [header, ...rest] = all;
    const services = rest.filter((line) => line.kind === 'service');
    // Nothing was removed from this catalog, so its revision is its newest record's.
    const newest = Math.max(...services.map((line) => line.revision as number));
    expect(header).toMatchObject({ kind: 'beacon-export', v: 1, revision: newest, backend: 'sqlite' });
    const stats = await fetchJson<RegistryStatsResponse>('GET', `${source.base}/stats`);
    expect(stats.body.revision).toBe(newest);
    const checks = rest.filter((line) => line.kind === 'check');
    expect(services).toHaveLength(95);
    expect(checks).toHaveLength(3);
    // Nobody deleted a service here, so no tombstone lines (see the tombstone test below).
    expect(rest.filter((line) => line.kind === 'tombstone')).toHaveLength(0);
    expect(all.at(-1)).toEqual({ kind: 'end', services: 95, checks: 3, tombstones: 0 });
    // Stored form: epoch milliseconds, store-only fields, the stored status.
    const swept = services.find((line) => line.name === 'soon-swept');
    expect(typeof swept?.expires_at).toBe('number');
    expect(swept).toHaveProperty('consecutive_health_successes');
    expect(swept?.status).toBe('expired');
    const maintained = services.find((line) => line.name === 'maintained');
    expect(maintained?.status).toBe('inactive');
    // Oldest check first, so an import appends them in the order they happened.
    expect(checks.map((line) => (line.check as { health: string }).health)).toEqual(['healthy', 'degraded', 'unhealthy']);
  });
});

describe('POST /api/v1/import', () => {
  it('loads the export into an empty store: the same records, histories and revision', async () => {
    const response = await importInto(target, exported);
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ services: 95, checks: 3, created: 95, replaced: 0, merge: false });
    const [from, to] = await Promise.all([catalogOf(source), catalogOf(target)]);
    expect(to.size).toBe(95);
    for (const [id, original] of from) expect(to.get(id), id).toEqual(original);
    expect(await revisionOf(target)).toBe(await revisionOf(source));
    // The registry keeps numbering upward from there.
    const next = await target.register({ name: 'after-import', host: '10.3.0.1', port: 1 });
    expect(next.revision).toBe((await revisionOf(source)) + 1);
    expect((await fetchJson('DELETE', `${target.base}/services/${next.service_id}`)).status).toBe(204);
    // The import is on disk: a restarted process reads the same catalog.
    await target.api.stop();
    await target.restart();
    const reread = await catalogOf(target);
    for (const [id, original] of from) expect(reread.get(id), id).toEqual(original);
  });

  it('refuses a second import into the now non-empty store with 409, and changes nothing', async () => {
    const before = await revisionOf(target);
    const response = await importInto(target, exported);
    expect(response.status).toBe(409);
    expect(response.body.detail).toMatch(/already holds 95 services.*merge=true/);
    expect(await revisionOf(target)).toBe(before);
  });

  it('merges with ?merge=true: upserts by service_id under new revisions, the catalog revision moves on', async () => {
    const before = await revisionOf(target);
    const response = await importInto(target, exported, '?merge=true');
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ created: 0, replaced: 95, revision: before + 95 });
    expect(await revisionOf(target)).toBe(before + 95);
    const [from, to] = await Promise.all([catalogOf(source), catalogOf(target)]);
    for (const [id, original] of from) {
      const merged = to.get(id);
      expect(merged?.service.revision).toBeGreaterThan(before);
      expect({ ...merged?.service, revision: 0 }).toEqual({ ...original.service, revision: 0 });
      expect(merged?.checks).toEqual(original.checks);
    }
  });

  it('refuses a merge whose record claims an identity a stored record holds: 409 naming the line', async () => {
    const squatter = await target.register({ name: 'squat', host: '10.9.0.1', port: 1 });
    const all = exported.split('\n');
    const claimant = all.findIndex((line) => line.includes('"name":"maintained"'));
    const claiming = all.map((line, index) =>
      index === claimant
        ? line.replace(
            '"name":"maintained","type":"http","host":"10.1.0.4","port":9',
            '"name":"squat","type":"http","host":"10.9.0.1","port":1',
          )
        : line,
    );
    const response = await importInto(target, claiming.join('\n'), '?merge=true');
    expect(response.status, response.text).toBe(409);
    expect(response.body.detail).toContain(`line ${claimant + 1}: `);
    expect(response.body.detail).toContain(squatter.service_id);
    expect((await fetchJson('DELETE', `${target.base}/services/${squatter.service_id}`)).status).toBe(204);
  });

  it('refuses a file with a bad line with 400 naming the line and the field, and imports none of it', async () => {
    const before = await revisionOf(target);
    const all = exported.split('\n');
    const broken = all.map((line, index) => (index === 5 ? line.replace(/"port":\d+/, '"port":"eighty"') : line)).join('\n');
    const response = await importInto(target, broken, '?merge=true');
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/line 6: field "port" must be integer/);
    const notJson = all.map((line, index) => (index === 3 ? '{"kind":"service",' : line)).join('\n');
    expect((await importInto(target, notJson, '?merge=true')).body.detail).toMatch(/line 4: not JSON/);
    const truncated = all.slice(0, 40).join('\n');
    expect((await importInto(target, truncated, '?merge=true')).body.detail).toMatch(/no end line: the file is truncated/);
    expect(await revisionOf(target)).toBe(before);
  });

  it('refuses other media types with 415 and an empty body with 400', async () => {
    expect((await importInto(target, exported, '', { 'content-type': 'text/csv' })).status).toBe(415);
    expect((await importInto(target, '', '?merge=true')).status).toBe(400);
    expect((await importInto(target, exported, '?merge=maybe')).body.detail).toMatch(/"merge" must be true or false/);
  });

  it('carries tombstones: exported after a DELETE, imported into a fresh store they answer 410 there; a record outranks its tombstone', async () => {
    const doomed = await target.register({ name: 'doomed', host: '10.9.0.2', port: 1 });
    const kept = await target.register({ name: 'kept', host: '10.9.0.2', port: 2 });
    for (const service of [doomed, kept])
      expect((await fetchJson('DELETE', `${target.base}/services/${service.service_id}`)).status).toBe(204);
    const text = await (await exportOf(target)).text();
    const all = lines(text);
    const tombstones = all.filter((line) => line.kind === 'tombstone');
    expect(tombstones.map((line) => line.service_id)).toEqual(expect.arrayContaining([doomed.service_id, kept.service_id]));
    expect(tombstones.find((line) => line.service_id === doomed.service_id)).toMatchObject({
      name: 'doomed',
      host: '10.9.0.2',
      port: 1,
      reason: 'delete',
      deleted_at: expect.any(Number),
      expires_at: expect.any(Number),
    });
    expect(all.at(-1)).toMatchObject({ kind: 'end', tombstones: tombstones.length });

    // A fresh store: the tombstone lines restore each deletion, and a record line of the same id wins over one.
    const fresh = await startRegistry();
    try {
      const withRecord = all.find((line) => line.kind === 'service') as Record<string, unknown>;
      const clash = tombstones.map((line) => (line.service_id === kept.service_id ? { ...line, service_id: withRecord.service_id } : line));
      const body = [all[0], withRecord, ...clash, { kind: 'end', services: 1, checks: 0, tombstones: clash.length }]
        .map((line) => JSON.stringify(line))
        .join('\n');
      const response = await importInto(fresh, body + '\n');
      expect(response.status, response.text).toBe(200);
      expect((await fetchJson('PUT', `${fresh.base}/services/${doomed.service_id}/heartbeat`)).status).toBe(410);
      expect((await fetchJson('PUT', `${fresh.base}/services/${String(withRecord.service_id)}/heartbeat`)).status).toBe(200);
      // And a restart reads them back from the file.
      await fresh.api.stop('SIGKILL');
      await fresh.restart();
      expect((await fetchJson('PUT', `${fresh.base}/services/${doomed.service_id}/heartbeat`)).status).toBe(410);
    } finally {
      await fresh.dispose();
    }
  });
});

describe('with a token set', () => {
  let guarded: RegistryFixture;
  const token = 'export-import-token-0123456789';

  beforeAll(async () => {
    guarded = await startRegistry({ env: { BEACON_AUTH_TOKEN: token, BEACON_IMPORT_MAX_BYTES: String(128 * 1024) } });
  });

  afterAll(async () => {
    await guarded?.dispose();
  });

  it('answers export and import only with the token, whether or not reads are guarded', async () => {
    expect((await exportOf(guarded)).status).toBe(401);
    expect((await importInto(guarded, exported)).status).toBe(401);
    expect((await exportOf(guarded, { authorization: `Bearer ${token}` })).status).toBe(200);
    const imported = await importInto(guarded, exported, '', { ...NDJSON, authorization: `Bearer ${token}` });
    expect(imported.status, imported.text).toBe(200);
  });

  it('caps the import body at BEACON_IMPORT_MAX_BYTES while other routes keep 64 KiB', async () => {
    const big = exported + ' '.repeat(128 * 1024);
    const refused = await importInto(guarded, big, '?merge=true', { ...NDJSON, authorization: `Bearer ${token}` });
    expect(refused.status).toBe(413);
    expect(refused.body.detail).toBe(`Import body is larger than ${128 * 1024} bytes (BEACON_IMPORT_MAX_BYTES)`);
    const other = await fetchJson('POST', `${guarded.base}/services/register`, undefined, {
      raw: JSON.stringify({ name: 'x', host: '10.0.0.1', port: 1, metadata: { pad: 'y'.repeat(70 * 1024) } }),
      contentType: 'application/json',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(other.status).toBe(413);
  });
});

const mongoUrl = process.env.BEACON_MONGODB_URL;

/** The move the README describes: the SQLite export into registry-api on MongoDB, in a database of this run's own. */
describe.skipIf(!mongoUrl)('into MongoDB (runs where BEACON_MONGODB_URL reaches a server; skipped otherwise: none here)', () => {
  let onMongo: RegistryFixture;
  let databaseUrl = '';

  beforeAll(async () => {
    const parsed = new URL(mongoUrl ?? '');
    parsed.pathname = `/beacon_export_${randomUUID().slice(0, 8)}`;
    databaseUrl = parsed.toString();
    onMongo = await startRegistry({ env: { BEACON_STORE: 'mongodb', BEACON_MONGODB_URL: databaseUrl } });
  }, 60_000);

  afterAll(async () => {
    await onMongo?.dispose();
    const mongoose = await import('mongoose');
    const connection = await mongoose.default.createConnection(databaseUrl).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  it('serves the same catalog, histories and revision after the import; a second import needs merge', async () => {
    const response = await importInto(onMongo, exported);
    expect(response.status, response.text).toBe(200);
    const [from, to] = await Promise.all([catalogOf(source), catalogOf(onMongo)]);
    for (const [id, original] of from) expect(to.get(id), id).toEqual(original);
    expect(await revisionOf(onMongo)).toBe(await revisionOf(source));
    expect((await importInto(onMongo, exported)).status).toBe(409);
    expect((await importInto(onMongo, exported, '?merge=true')).status).toBe(200);
  });
});
