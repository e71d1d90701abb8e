import { type DiscoveryInstancesResponse, type RegistryStatsResponse, type Service } from '@beacon/contracts';
import {
  REPO_ROOT,
  fetchJson,
  freePort,
  probeResult,
  publishProbeResult,
  startRegistry,
  waitFor,
  type RegistryFixture,
} from '@beacon/testing';
import { connect } from 'nats';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let registry: RegistryFixture;

beforeAll(async () => {
  registry = await startRegistry();
});

// Each test stops and restarts registry-api on the one file; whatever an earlier test left,
// each starts with a running process.
beforeEach(async () => {
  const { child } = registry.api;
  if (child.exitCode !== null || child.signalCode !== null) await registry.restart();
});

afterAll(async () => {
  await registry?.dispose();
});

describe('embedded store durability', () => {
  it('keeps every acknowledged write when registry-api is killed with SIGKILL right after the 201', async () => {
    const acknowledged: Service[] = [];
    for (let round = 0; round < 3; round += 1) {
      // Writes in flight together, then SIGKILL the moment the last 201 arrives.
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          fetchJson<Service>('POST', `${registry.base}/services/register`, {
            name: `durable-${round}-${index}`,
            host: '10.20.0.1',
            port: 1000 + index,
            metadata: { round: String(round) },
          }),
        ),
      );
      const last = await fetchJson<Service>('PUT', `${registry.base}/services/${burst[0]?.body.service_id}`, { version: `v${round}` });
      const exit = await registry.api.stop('SIGKILL');
      expect(exit).toBe('SIGKILL');
      for (const response of burst) expect(response.status).toBe(201);
      expect(last.status).toBe(200);
      acknowledged.push(...burst.map((response) => response.body), last.body);
      await registry.restart();
    }
    for (const service of acknowledged) {
      const stored = await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}`);
      expect(stored.status).toBe(200);
      expect(stored.body.revision).toBeGreaterThanOrEqual(service.revision);
    }
    const lastUpdate = acknowledged.at(-1);
    const reread = await fetchJson<Service>('GET', `${registry.base}/services/${lastUpdate?.service_id}`);
    expect(reread.body.version).toBe('v2');
  });

  it('keeps numbering revisions upward across a restart', async () => {
    const before = await fetchJson<Service>('POST', `${registry.base}/services/register`, { name: 'rev-a', host: '10.20.0.2', port: 1 });
    await registry.api.stop('SIGKILL');
    await registry.restart();
    const after = await fetchJson<Service>('POST', `${registry.base}/services/register`, { name: 'rev-b', host: '10.20.0.2', port: 2 });
    expect(after.body.revision).toBeGreaterThan(before.body.revision);
  });

  it("keeps seed 004's instances and the statistics (checks of the last minute, revision, counts) across a SIGKILL", async () => {
    const v1 = (path: string): string => `${registry.api.url}/v1/discovery${path}`;
    const instance = await fetchJson<{ service_id: string }>('POST', v1('/register'), {
      service_name: 'durable-v1',
      instance_id: 'i-1',
      host: '10.20.0.3',
      port: 8080,
      health_endpoint: '/health',
    });
    expect(instance.status).toBe(200);
    // Three check results, published as health-prober publishes them.
    const bus = await connect({ servers: registry.nats.url });
    try {
      for (let index = 0; index < 3; index += 1) {
        const result = probeResult(
          { service_id: instance.body.service_id, health_check_url: 'http://10.20.0.3:8080/health' },
          {
            response_time_ms: 2,
            load: 0.2,
            checked_at: new Date(Date.now() - 100 + index * 10).toISOString(),
            prober_id: 'durability-test',
          },
        );
        publishProbeResult(bus, result);
      }
      await bus.flush();
    } finally {
      await bus.close();
    }
    const stats = async (): Promise<RegistryStatsResponse> =>
      (await fetchJson<RegistryStatsResponse>('GET', `${registry.base}/stats`)).body;
    const before = await waitFor('the three checks counted', async () => {
      const now = await stats();
      return now.checks_last_minute >= 3 ? now : undefined;
    });

    expect(await registry.api.stop('SIGKILL')).toBe('SIGKILL');
    await registry.restart();

    const after = await stats();
    expect(after.revision).toBe(before.revision);
    expect(after.services).toEqual(before.services);
    // Read back from the stored history: the same checks, still inside the minute.
    expect(after.checks_last_minute).toBe(before.checks_last_minute);
    const listed = await fetchJson<DiscoveryInstancesResponse>('GET', v1('/services/durable-v1'));
    expect(listed.body.instances.map((each) => [each.service_id, each.instance_id, each.health])).toEqual([
      [instance.body.service_id, 'i-1', 'healthy'],
    ]);
  });

  it('refuses a second registry-api on the same file, saying what to do', async () => {
    const second = spawnSync(process.execPath, [join(REPO_ROOT, 'apps/registry-api/dist/main.js')], {
      env: {
        PATH: process.env.PATH,
        NATS_URL: registry.nats.url,
        BEACON_SQLITE_PATH: registry.dbPath,
        BEACON_PORT: String(await freePort()),
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/is in use by another process/);
    expect(second.stderr).toMatch(/BEACON_MONGODB_URL/);
    expect(second.stderr).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
    const health = await fetchJson<{ status: string }>('GET', `${registry.base}/health`);
    expect(health.body.status).toBe('healthy');
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const code = await registry.api.stop('SIGTERM');
    expect(code).toBe(0);
    await registry.restart();
    const health = await fetchJson<{ database: { connected: boolean } }>('GET', `${registry.base}/health`);
    expect(health.body.database.connected).toBe(true);
  });
});
