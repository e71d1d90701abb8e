import {
  REPO_ROOT,
  createIsolatedHost,
  findNatsServer,
  linkHosts,
  netnsUnavailable,
  waitFor,
  type IsolatedHost,
  type VethLink,
} from '@beacon/testing';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A home server whose LAN comes up after Beacon: the announcer starts in a namespace with
 * only loopback (NATS and registry-api beside it, as nothing else is reachable), then a cable
 * is plugged into a second namespace where Python's zeroconf browses, its address changes,
 * and it is unplugged again. The test process reaches the apps with curl inside the namespace.
 */
const PYTHON = '/usr/bin/python3';
const NATS_PORT = 4222;
const API_PORT = 8097;
const ANNOUNCER_PORT = 9103;

function skipReason(): string | null {
  const netns = netnsUnavailable();
  if (netns) return netns;
  if (spawnSync(PYTHON, ['-c', 'import zeroconf']).status !== 0) return 'python3-zeroconf is not installed';
  if (spawnSync('curl', ['--version']).status !== 0) return 'curl is not installed';
  return null;
}

const skip = skipReason();
const subnet = `10.201.${process.pid % 250}`;
const SELF = 'Beacon under test._beacon._tcp.local.';
const LAMP = 'lamp._http._tcp.local.';

interface Seen {
  event: string;
  name: string;
  port?: number;
  addresses?: string[];
}

let home: IsolatedHost;
let peer: IsolatedHost;
let cable: VethLink | null = null;
let dir: string;
const processes: ChildProcess[] = [];
let announcer: ChildProcess;
/** What every process in the home namespace wrote. */
let output = '';
let browser: ChildProcess | null = null;
const seen: Seen[] = [];

/** An HTTP request made inside the home namespace; the JSON body and status. */
function request(path: string, port: number, body?: object): { status: number; json: Record<string, unknown> } {
  const args = ['-s', '-m', '5', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`];
  if (body) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  const { stdout } = home.run('curl', args);
  const cut = stdout.lastIndexOf('\n');
  const status = Number(stdout.slice(cut + 1));
  try {
    return { status, json: JSON.parse(stdout.slice(0, cut)) as Record<string, unknown> };
  } catch {
    return { status, json: {} };
  }
}

function startInHome(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = home.spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(child);
  // Drained, or a full pipe would stop the process; kept, for the failure message.
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return child;
}

const app = (name: string): string => resolve(REPO_ROOT, 'apps', name, 'dist', 'main.js');

interface MdnsBlock {
  running: boolean;
  registered_services: number;
  interfaces?: string[];
  problem?: string | null;
}

const announcerHealth = (): MdnsBlock | undefined => request('/health', ANNOUNCER_PORT).json.mdns as MdnsBlock | undefined;
const registryHealth = (): MdnsBlock | undefined => request('/api/v1/health', API_PORT).json.mdns as MdnsBlock | undefined;

/** The announcer and the registry's health block both say nothing is answered, and why. */
async function expectNoInterface(): Promise<void> {
  await waitFor(
    'no LAN interface in /health',
    () => announcerHealth()?.problem === 'no LAN interface' && registryHealth()?.problem === 'no LAN interface',
    15_000,
    300,
  );
  expect(announcerHealth()).toMatchObject({ running: false, interfaces: [], registered_services: 1 });
  expect(registryHealth()).toMatchObject({ running: false, interfaces: [], registered_services: 1 });
  expect(request('/ready', ANNOUNCER_PORT).status).toBe(200);
  expect(announcer.exitCode).toBeNull();
}

const latest = (name: string, event?: string): Seen | undefined =>
  seen.filter((entry) => entry.name === name && entry.port !== undefined && (event === undefined || entry.event === event)).at(-1);

describe.skipIf(skip !== null)(`mdns-announcer as the network comes and goes${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    home = createIsolatedHost();
    peer = createIsolatedHost();
    dir = mkdtempSync(join(tmpdir(), 'beacon-netchange-'));
    startInHome(findNatsServer(), ['-js', '-sd', join(dir, 'js'), '-a', '127.0.0.1', '-p', String(NATS_PORT)], {});
    const nats = { NATS_URL: `nats://127.0.0.1:${NATS_PORT}`, LOG_LEVEL: 'info' };
    startInHome(process.execPath, [app('registry-api')], {
      ...nats,
      BEACON_PORT: String(API_PORT),
      BEACON_SQLITE_PATH: join(dir, 'beacon.db'),
      BEACON_REGISTRATIONS_PER_SECOND: '0',
    });
    await waitFor('registry-api ready', () => request('/ready', API_PORT).status === 200, 20_000, 300);
    expect(request('/api/v1/services/register', API_PORT, { name: 'lamp', type: 'http', host: '10.42.0.7', port: 8080 }).status).toBe(201);
    announcer = startInHome(process.execPath, [app('mdns-announcer')], {
      ...nats,
      HTTP_PORT: String(ANNOUNCER_PORT),
      MDNS_HOSTNAME: 'beacon-test',
      BEACON_ANNOUNCE_PORT: String(API_PORT),
      BEACON_ANNOUNCE_NAME: 'Beacon under test',
    });
  }, 40_000);

  afterAll(async () => {
    browser?.stdin?.end();
    browser?.kill();
    for (const child of processes.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    cable?.dispose();
    home?.dispose();
    peer?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts with loopback only, stays up and ready, and says there is no LAN interface', async () => {
    await waitFor('announcer ready', () => request('/ready', ANNOUNCER_PORT).status === 200, 20_000, 300).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${output}`);
    });
    await expectNoInterface();
  });

  it('answers on an interface that comes up: zeroconf on the far side resolves the service and Beacon', async () => {
    cable = linkHosts(home, peer, [`${subnet}.1/24`, `${subnet}.2/24`]);
    browser = peer.spawn(PYTHON, [join(__dirname, 'browse.py'), '_http._tcp.local.,_beacon._tcp.local.', `${subnet}.2`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: browser.stdout! }).on('line', (line) => seen.push(JSON.parse(line) as Seen));
    const lamp = await waitFor('lamp resolved', () => latest(LAMP), 20_000);
    expect(lamp).toMatchObject({ port: 8080, addresses: ['10.42.0.7'] });
    const self = await waitFor('Beacon resolved', () => latest(SELF), 10_000);
    expect(self).toMatchObject({ port: API_PORT, addresses: [`${subnet}.1`] });
    expect(announcerHealth()).toMatchObject({ running: true, problem: null, interfaces: [`${cable.names[0]} ${subnet}.1`] });
    // registry-api shows one answer from the announcer for up to a second.
    await waitFor('registry-api showing the interface', () => registryHealth()?.running === true, 5_000, 300);
    expect(registryHealth()).toMatchObject({ running: true, problem: null, interfaces: [`${cable.names[0]} ${subnet}.1`] });
  });

  it("follows an address change: Beacon's own address record moves to the new address", async () => {
    const link = cable as VethLink;
    link.readdress(0, `${subnet}.1/24`, `${subnet}.3/24`);
    await waitFor(
      'Beacon at the new address',
      async () => {
        browser?.stdin?.write(`resolve _beacon._tcp.local. ${SELF}\n`);
        await new Promise((done) => setTimeout(done, 500));
        return latest(SELF, 'resolved')?.addresses?.join() === `${subnet}.3`;
      },
      20_000,
    );
    expect(announcerHealth()?.interfaces).toEqual([`${link.names[0]} ${subnet}.3`]);
    browser?.stdin?.write(`resolve _http._tcp.local. ${LAMP}\n`);
    expect(await waitFor('lamp still resolved', () => latest(LAMP, 'resolved'), 10_000)).toMatchObject({ port: 8080 });
  });

  it('is still alive and says so when the interface goes away', async () => {
    (cable as VethLink).dispose();
    cable = null;
    await expectNoInterface();
    expect(output).toMatch(/interface gone/);
  });
});
