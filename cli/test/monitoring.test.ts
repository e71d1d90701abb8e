/**
 * Monitoring from the CLI: webhooks added, tested, listed and removed; an incident opened by
 * real failing checks, listed, acknowledged and resolved; `status` with the elector's role,
 * and "unreachable" when no elector answers. `--json` compared with the API throughout.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startApp,
  startRegistry,
  startWebhookReceiver,
  waitFor,
  type AppProcess,
  type RegistryFixture,
  type WebhookReceiver,
} from '@beacon/testing';
import type { Incident, IncidentList, Webhook, WebhookDeliveryList } from '@beacon/contracts';
import { api, BIN, cli, type CliResult } from './helpers';

let registry: RegistryFixture;
let receiver: WebhookReceiver;
const apps: AppProcess[] = [];
let env: Record<string, string> = {};
const run = (...args: string[]): Promise<CliResult> => cli(args, env);
const json = <T>(result: CliResult): T => {
  expect(result.stderr).toBe('');
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};

beforeAll(async () => {
  registry = await startRegistry();
  receiver = await startWebhookReceiver();
  apps.push(await startApp('realtime-gateway', { env: { NATS_URL: registry.nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' }));
  env = { BEACON_URL: registry.api.url, BEACON_ELECTOR_URL: 'http://127.0.0.1:9/discovery' };
});

afterAll(async () => {
  for (const app of apps) await app.stop();
  await receiver?.close();
  await registry?.dispose();
});

describe('beacon webhooks', () => {
  it('add, ls, test, deliveries and rm, each --json equal to the API', async () => {
    const target = `${receiver.url}/hook`;
    const added = json<Webhook>(
      await run(
        'webhooks',
        'add',
        target,
        '--event',
        'incident_opened',
        '--event',
        'incident_resolved',
        '--description',
        'from the cli',
        '--json',
      ),
    );
    expect(added).toMatchObject({
      url: target,
      events: ['incident_opened', 'incident_resolved'],
      description: 'from the cli',
      enabled: true,
    });
    expect(json<unknown>(await run('webhooks', 'ls', '--json'))).toEqual(await api(`${registry.base}/webhooks`));
    const table = await run('webhooks', 'ls');
    expect(table.stdout).toMatch(
      new RegExp(
        `${added.webhook_id}\\s+${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+incident_opened,incident_resolved\\s+generic\\s+yes`,
      ),
    );
    const tested = await run('webhooks', 'test', added.webhook_id, '-q');
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(new RegExp(`:${added.webhook_id}\\n$`));
    await waitFor('the test delivery', () => receiver.received.length > 0, 15_000);
    const deliveries = json<WebhookDeliveryList>(await run('webhooks', 'deliveries', added.webhook_id, '--json'));
    expect(deliveries).toEqual(await api(`${registry.base}/webhooks/${added.webhook_id}/deliveries`));
    expect(deliveries.deliveries[0]?.event_type).toBe('test');
    expect(await run('webhooks', 'rm', added.webhook_id)).toMatchObject({ code: 0, stdout: `removed ${added.webhook_id}\n` });
    expect((await run('webhooks', 'rm', added.webhook_id)).code).toBe(3);
  });
});

describe('beacon incidents', () => {
  it('shows an incident opened by failing checks; ack and resolve it', async () => {
    apps.push(await startApp('health-prober', { env: { NATS_URL: registry.nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' }));
    const dead = await freePort();
    const registered = await run(
      'register',
      '--name',
      'cli-down',
      '--host',
      '127.0.0.1',
      '--port',
      String(dead),
      '--check-url',
      `http://127.0.0.1:${dead}/`,
      '--check-interval',
      '1',
      '-q',
    );
    const id = registered.stdout.trim();
    const incident = await waitFor(
      'an open incident',
      async () => (await api<IncidentList>(`${registry.base}/incidents?service_id=${id}&status=open`)).incidents[0],
      40_000,
    );
    const table = await run('incidents', 'ls', '--service', id);
    expect(table.stdout).toMatch(new RegExp(`${incident.incident_id}\\s+cli-down\\s+down\\s+open`));
    // An open incident changes with every failing check; its open fields are compared here, the whole once resolved.
    expect(json<Incident>(await run('incidents', 'get', incident.incident_id, '--json'))).toMatchObject({
      incident_id: incident.incident_id,
      service_id: id,
      kind: 'down',
      status: 'open',
    });
    const acked = json<Incident>(await run('incidents', 'ack', incident.incident_id, '--note', 'looking', '--json'));
    expect(acked).toMatchObject({ status: 'open', note: 'looking' });
    expect(acked.acknowledged_at).not.toBeNull();
    expect(json<Incident>(await run('incidents', 'resolve', incident.incident_id, '--note', 'fixed', '--json'))).toMatchObject({
      status: 'resolved',
      resolved_by: 'manual',
    });
    expect(json<Incident>(await run('incidents', 'get', incident.incident_id, '--json'))).toEqual(
      await api(`${registry.base}/incidents/${incident.incident_id}`),
    );
    expect(json<unknown>(await run('incidents', 'ls', '--status', 'resolved', '--json'))).toEqual(
      await api(`${registry.base}/incidents?status=resolved`),
    );
    // Resolving it again is refused (409): exit 1 with the server's detail.
    const again = await run('incidents', 'resolve', incident.incident_id);
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toMatch(/^beacon: .+/);
    expect((await run('deregister', id)).code).toBe(0);
  });
});

describe('beacon check and pings', () => {
  it('checks a service now and prints the result; pings lists it', async () => {
    // health-prober was started by the incidents test above.
    const registered = await run(
      'register',
      '--name',
      'cli-checked',
      '--host',
      '127.0.0.1',
      '--port',
      String(registry.api.port),
      '--check-url',
      `${registry.api.url}/health`,
      // No scheduled check between the CLI's read and the API's.
      '--check-interval',
      '300',
      '-q',
    );
    const id = registered.stdout.trim();
    const checked = json<{ result: { outcome: string; health: string }; service: { service_id: string } }>(
      await run('check', id, '--json'),
    );
    expect(checked).toMatchObject({ result: { outcome: 'healthy', health: 'healthy' }, service: { service_id: id } });
    const table = await run('check', id);
    expect(table.stdout).toMatch(/health\s+healthy/);
    expect(table.stdout).toMatch(/status code\s+200/);
    const pings = await run('pings', id);
    expect(pings.stdout).toMatch(/^CHECKED\s+KIND\s+HEALTH\s+OUTCOME\s+CODE\s+MS\s+ERROR/);
    expect(pings.stdout).toMatch(/http\s+healthy\s+healthy\s+200/);
    expect(json<unknown>(await run('pings', id, '--json'))).toEqual(await api(`${registry.base}/services/${id}/pings`));
    await run('deregister', id);
  });
});

describe('beacon status', () => {
  it("prints the registry's health and the elector's role, or unreachable", async () => {
    const unreachable = await run('status');
    expect(unreachable.code, unreachable.stderr).toBe(0);
    expect(unreachable.stdout).toMatch(/beacon\s+http:\/\/127\.0\.0\.1:\d+\s+healthy/);
    expect(unreachable.stdout).toMatch(/store\s+sqlite connected/);
    expect(unreachable.stdout).toMatch(/elector\s+unreachable \(http:\/\/127\.0\.0\.1:9\/discovery\)/);
    const elector = await startApp('node-role-elector', {
      env: { NATS_URL: registry.nats.url, ROLE: 'server', NODE_ID: 'cli-node' },
      portVariable: 'ELECTOR_PORT',
      readyPath: '/health',
    });
    apps.push(elector);
    const status = await waitFor(
      'the server role',
      async () => {
        const result = await cli(['status', '--elector-url', `${elector.url}/discovery`, '--json'], env);
        const body = JSON.parse(result.stdout) as { elector: { mode: string } | null };
        return body.elector?.mode === 'server' ? body : undefined;
      },
      20_000,
    );
    expect(status).toMatchObject({ registry: { status: 'healthy' }, elector: { node_id: 'cli-node', mode: 'server' } });
    const table = await cli(['status', '--elector-url', `${elector.url}/discovery`], env);
    expect(table.stdout).toMatch(/elector\s+server node cli-node/);
  });
});

describe('beacon watch --json', () => {
  it('prints one event a line; a position the gateway never had is said and the watch continues live', async () => {
    const gateway = apps[0] as AppProcess;
    const child = spawn(process.execPath, [BIN, 'watch', '--json', '--since', '999999', '--gateway-url', gateway.url], {
      env: { PATH: process.env.PATH ?? '', BEACON_URL: registry.api.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the resync note', () => stderr.includes('no longer kept'), 20_000);
      await waitFor('the live watch', () => (stderr.match(/watching/g) ?? []).length >= 2, 20_000);
      const service = await registry.register({ name: 'cli-ndjson', host: '127.0.0.1', port: 8105 });
      await waitFor('the event line', () => stdout.includes('cli-ndjson'), 20_000);
      const events = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; seq: number; data: { service_id: string } });
      expect(events.find((event) => event.data.service_id === service.service_id)).toMatchObject({
        type: 'service_registered',
        seq: expect.any(Number),
      });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exit).toBe(0);
  });
});
