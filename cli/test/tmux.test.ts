/**
 * The CLI in a terminal, as a person uses it (tmux): tables with the right rows and colour,
 * `watch` showing a registration live and resuming after a gateway restart, `run` registering
 * a small HTTP server, heartbeating, and on Ctrl-C deregistering and passing the exit code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startApp, startRegistry, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import type { Service, ServiceListResponse } from '@beacon/contracts';
import { api, Tmux } from './helpers';

let registry: RegistryFixture;
let gateway: AppProcess | undefined;
let gatewayEnv: Record<string, string>;
let tmux: Tmux;

const byName = async (name: string): Promise<Service[]> =>
  (await api<ServiceListResponse>(`${registry.base}/services?name=${name}`)).services;
const count = (screen: string, text: string): number => screen.split(text).length - 1;

beforeAll(async () => {
  registry = await startRegistry();
  gatewayEnv = { NATS_URL: registry.nats.url, HTTP_PORT: String(await freePort()) };
  gateway = await startApp('realtime-gateway', { env: gatewayEnv, portVariable: 'HTTP_PORT', readyPath: '/ready' });
  tmux = new Tmux({ BEACON_URL: registry.api.url, BEACON_GATEWAY_URL: gateway.url });
});

afterAll(async () => {
  tmux?.dispose();
  await gateway?.stop();
  await registry?.dispose();
});

describe('beacon in a terminal', () => {
  it('ls shows the registered services as a coloured table', async () => {
    await registry.register({ name: 'tmux-api', host: '10.0.0.1', port: 8080, type: 'api', tags: ['edge'] });
    await registry.register({ name: 'tmux-db', host: '10.0.0.2', port: 5432, type: 'database' });
    tmux.type('beacon ls');
    const screen = await tmux.waitForScreen('the table', (text) => text.includes('tmux-db') && text.includes('tmux-api'));
    const lines = screen.split('\n');
    const header = lines.findIndex((line) => /^ID\s+NAME\s+TYPE\s+ADDRESS\s+STATUS\s+HEALTH\s+HEARTBEAT\s+TAGS/.test(line));
    expect(header).toBeGreaterThanOrEqual(0);
    const rows = lines.slice(header + 1, header + 3);
    expect(rows.find((row) => row.includes('tmux-api'))).toMatch(/tmux-api\s+api\s+10\.0\.0\.1:8080\s+active\s+unknown\s+\S+ ago\s+edge/);
    expect(rows.find((row) => row.includes('tmux-db'))).toMatch(/tmux-db\s+database\s+10\.0\.0\.2:5432\s+active/);
    // On a TTY the statuses are coloured (green active); NO_COLOR turns that off.
    expect(tmux.screen(true)).toContain('\u001b[32mactive');
    tmux.clear();
    tmux.type('NO_COLOR=1 beacon ls; echo "done=$?"');
    await tmux.waitForScreen('the plain table', (text) => text.includes('done=0'));
    expect(tmux.screen(true)).not.toContain('\u001b[32mactive');
    tmux.clear();
  });

  it('watch shows a registration live and resumes after the gateway restarts', async () => {
    tmux.type('beacon watch --name tmux-live');
    await tmux.waitForScreen('the watch to start', (text) => text.includes('watching'));
    await registry.register({ name: 'tmux-live', host: '10.0.0.3', port: 9001 });
    await tmux.waitForScreen('the first registration', (text) => /service_registered\s+tmux-live\s+\S+\s+10\.0\.0\.3:9001/.test(text));

    await gateway?.stop();
    await tmux.waitForScreen('the drop', (text) => text.includes('connection lost'));
    // Registered while nothing is connected: the resumed stream must still show it, once.
    await registry.register({ name: 'tmux-live', host: '10.0.0.4', port: 9002 });
    gateway = await startApp('realtime-gateway', { env: gatewayEnv, portVariable: 'HTTP_PORT', readyPath: '/ready' });
    const screen = await tmux.waitForScreen('the resumed event', (text) => text.includes('10.0.0.4:9002'));
    expect(screen).toMatch(/connection lost; resuming after seq \d+/);
    expect(count(screen, '10.0.0.3:9001')).toBe(1);
    await registry.register({ name: 'tmux-live', host: '10.0.0.5', port: 9003 });
    const later = await tmux.waitForScreen('a live event after the resume', (text) => text.includes('10.0.0.5:9003'));
    expect(count(later, '10.0.0.4:9002')).toBe(1);
    expect(tmux.screen(true)).toContain('\u001b[32mservice_registered');
    tmux.keys('C-c');
    tmux.type('echo "watch=$?"');
    await tmux.waitForScreen('watch to stop', (text) => text.includes('watch=0'));
    tmux.clear();
  });

  it('run registers a node HTTP server, heartbeats, and on Ctrl-C (which reaches the server from the terminal) deregisters and passes the exit code', async () => {
    const port = await freePort();
    const server = `require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('serving ${port}'))`;
    tmux.type(
      `beacon run --name tmux-run --host 127.0.0.1 --port ${port} --ttl 10 --check-url http://127.0.0.1:${port}/ -- node -e "${server}"`,
    );
    await tmux.waitForScreen(
      'the server and its registration',
      (text) => text.includes(`serving ${port}`) && text.includes('registered tmux-run'),
    );
    const [first] = await byName('tmux-run');
    expect(first).toMatchObject({ host: '127.0.0.1', port, status: 'active', health_check_url: `http://127.0.0.1:${port}/` });
    // Heartbeats every ttl/3 (~3.3 s) keep renewing it.
    await waitFor(
      'a heartbeat',
      async () => {
        const [now] = await byName('tmux-run');
        return now !== undefined && now.last_heartbeat !== first?.last_heartbeat;
      },
      15_000,
    );
    tmux.keys('C-c');
    await tmux.waitForScreen('the deregistration', (text) => text.includes(`deregistered ${first?.service_id}`));
    tmux.type('echo "exit=$?"');
    await tmux.waitForScreen('the exit code', (text) => /exit=\d+/.test(text));
    // node dies of the SIGINT: 128 + 2.
    expect(tmux.screen()).toContain('exit=130');
    expect(await byName('tmux-run')).toEqual([]);
    tmux.clear();
  });

  it('bash completion completes "beacon inc<TAB>" to incidents', async () => {
    tmux.type('eval "$(beacon completion bash)"');
    tmux.keys('-l', 'beacon inc');
    tmux.keys('Tab');
    await tmux.waitForScreen('the completion', (text) => text.includes('beacon incidents '));
    tmux.keys('-l', 'a');
    tmux.keys('Tab');
    await tmux.waitForScreen('the subcommand completion', (text) => text.includes('beacon incidents ack '));
    tmux.keys('C-c');
  });
});
