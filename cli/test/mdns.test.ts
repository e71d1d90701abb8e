/**
 * With no URL given and nothing on localhost:8097, `beacon` finds Beacon over mDNS
 * (`_beacon._tcp`), as seed 000's ESP32 client does. All of it on a LAN of network
 * namespaces, so no multicast leaves the test: registry-api and mdns-announcer on one host
 * (nats-server in the root namespace), the CLI on another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, netnsUnavailable, startApp, startNatsServer, type AppProcess, type Lan, type NatsServerHandle } from '@beacon/testing';
import type { Service } from '@beacon/contracts';
import { BIN, type CliResult } from './helpers';

const unavailable = netnsUnavailable();
let lan: Lan;
let nats: NatsServerHandle;
let registry: AppProcess;
let announcer: AppProcess;
let dir: string;

/** `beacon <args>` inside the CLI's host, with no BEACON_URL or BEACON_TOKEN in its environment. */
function cliOnLan(args: string[]): Promise<CliResult> {
  const host = lan.hosts[1] as Lan['hosts'][0];
  return new Promise((resolve) => {
    const child = host.spawn('env', ['-i', `PATH=${process.env.PATH ?? ''}`, process.execPath, BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe.skipIf(unavailable !== null)(`beacon finds Beacon over mDNS${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  beforeAll(async () => {
    lan = createLan(2);
    const server = lan.hosts[0] as Lan['hosts'][0];
    nats = await startNatsServer({ host: '0.0.0.0' });
    dir = mkdtempSync(join(tmpdir(), 'beacon-cli-mdns-'));
    const natsUrl = `nats://${lan.rootIp}:${nats.port}`;
    registry = await startApp('registry-api', {
      env: { NATS_URL: natsUrl, BEACON_SQLITE_PATH: join(dir, 'beacon.db'), BEACON_REGISTRATIONS_PER_SECOND: '0' },
      portVariable: 'BEACON_PORT',
      netns: server,
    });
    announcer = await startApp('mdns-announcer', {
      env: {
        NATS_URL: natsUrl,
        MDNS_INTERFACE: server.ip,
        MDNS_HOSTNAME: 'beacon-cli-test',
        BEACON_ANNOUNCE_PORT: String(registry.port),
        BEACON_ANNOUNCE_NAME: 'Beacon for the CLI',
      },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
      netns: server,
    });
  });

  afterAll(async () => {
    await announcer?.stop();
    await registry?.stop();
    await nats?.dispose();
    lan?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the announced registry and says where it found it', async () => {
    const answer = await fetch(`${registry.url}/api/v1/services/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'found-over-mdns', host: '10.9.9.9', port: 80 }),
    });
    const service = (await answer.json()) as Service;
    const result = await cliOnLan(['ls', '-q']);
    expect(result.stderr).toContain(
      `beacon: found Beacon at http://${lan.hosts[0]?.ip}:${registry.port} through mDNS (Beacon for the CLI._beacon._tcp.local)`,
    );
    expect(result).toMatchObject({ code: 0, stdout: `${service.service_id}\n` });
  });
});
