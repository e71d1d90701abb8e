import { LIVE_EVENT_TYPES, type RegistryStatsResponse, type Service } from '@beacon/contracts';
import {
  REPO_ROOT,
  probeResult,
  fetchJson,
  publishProbeResult,
  startApp,
  startRegistry,
  waitFor,
  type AppProcess,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against
 * real processes: nats-server, registry-api, ttl-reaper (so expiry events happen) and
 * realtime-gateway serving the page. Services are registered through the REST API.
 * Each test gets a page of its own and registers what it shows.
 */
const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = join(REPO_ROOT, 'test-output');
// Without the background-networking flags Chromium stalls on a closed network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let registry: RegistryFixture;
let reaper: AppProcess;
let gateway: AppProcess;
let bus: NatsConnection;
let browser: Browser | undefined;
/** This test's browser context and page, with what its console and WebSocket saw. */
let context: BrowserContext;
let page: Page;
let consoleErrors: string[] = [];
/**
 * Whether this registry-api lacks a monitoring route the page polls (GET /uptime): then each
 * poll's 404 is a console line Chromium writes, excused until the route exists.
 */
let uptimeMissing = false;
const unexpected = (errors: string[]): string[] =>
  errors.filter((text) => !(uptimeMissing && /Failed to load resource: the server responded with a status of 404/.test(text)));
let socketUrls: string[] = [];

const gatewayEnv = (): Record<string, string> => ({ NATS_URL: registry.nats.url, BEACON_PUBLIC_API_URL: registry.api.url });

const register = (body: Record<string, unknown>): Promise<Service> =>
  registry.register({ host: '10.20.0.1', port: 1000 + Math.floor(Math.random() * 60000), ...body });

/** Removes every service, so the counts a test checks are of its own services only. */
async function clearCatalog(): Promise<void> {
  for (;;) {
    const listed = await fetchJson<{ services: Service[] }>('GET', `${registry.base}/services?limit=100`);
    expect(listed.status).toBe(200);
    if (listed.body.services.length === 0) return;
    for (const service of listed.body.services) {
      expect((await fetchJson('DELETE', `${registry.base}/services/${service.service_id}`)).status).toBe(204);
    }
  }
}

/** Check history without a prober: results published exactly as health-prober publishes them. */
async function publishChecks(service: Service, timesMs: number[]): Promise<void> {
  const start = Date.now() - timesMs.length * 1000;
  timesMs.forEach((ms, i) => {
    const failed = i === timesMs.length - 3;
    const result = probeResult(service, {
      ok: !failed,
      health: failed ? 'unhealthy' : 'healthy',
      outcome: failed ? 'error' : 'healthy',
      status_code: failed ? null : 200,
      response_time_ms: ms,
      error: failed ? 'ECONNREFUSED' : null,
      checked_at: new Date(start + i * 1000).toISOString(),
      prober_id: 'dashboard-test',
    });
    publishProbeResult(bus, result);
  });
  await waitFor('check history stored', async () => {
    const response = await fetch(`${registry.base}/services/${service.service_id}/health-checks`);
    const body = (await response.json()) as { total: number };
    return body.total >= timesMs.length;
  });
}

async function heartbeat(id: string): Promise<void> {
  const response = await fetch(`${registry.base}/services/${id}/heartbeat`, { method: 'PUT' });
  expect(response.status).toBe(200);
}

const row = (id: string): ReturnType<Page['locator']> => page.locator(`#rows tr[data-service-id="${id}"]`);
const count = (status: string): Promise<string | null> => page.locator(`#counts [data-count="${status}"] .count-value`).textContent();
const screenshot = (name: string): Promise<Buffer> => page.screenshot({ path: join(OUTPUT, name), fullPage: true });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium with "sudo apt-get install chromium" (CI installs it)`);
  }
  mkdirSync(OUTPUT, { recursive: true });
  // The page (on the gateway's origin) calls registry-api on another port: CORS must name it.
  registry = await startRegistry({ env: { CORS_ORIGINS: '*' } });
  const nats = registry.nats;
  [reaper, gateway, bus, browser] = await Promise.all([
    startApp('ttl-reaper', { env: { NATS_URL: nats.url }, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('realtime-gateway', { env: gatewayEnv(), portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    connect({ servers: nats.url }),
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }),
  ]);
  uptimeMissing = (await fetch(`${registry.base}/uptime?windows=1`)).status === 404;
});

beforeEach(async () => {
  context = await (browser as Browser).newContext({
    viewport: { width: 1440, height: 820 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page = await context.newPage();
  consoleErrors = [];
  socketUrls = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  page.on('websocket', (socket) => socketUrls.push(socket.url()));
});

afterEach(async () => {
  await context?.close();
});

afterAll(async () => {
  await browser?.close();
  await bus?.close();
  await Promise.all([gateway?.stop(), reaper?.stop()]);
  await registry?.dispose();
});

describe('dashboard', () => {
  it('shows services live, counts down, turns a silent one expired, copies endpoints, opens details, follows heartbeats and removals', async () => {
    await clearCatalog();
    await page.goto(gateway.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 });
    // Gone if the page reloads: everything below must arrive over the WebSocket.
    await page.evaluate('window.__sameDocument = true');
    expect(socketUrls[0]).toMatch(/\/api\/v1\/ws\?.*snapshot=true/);
    expect(socketUrls[0]).toContain('service_heartbeat');
    // The page asks for every type the contract lists, from the module the gateway writes from it.
    expect(new URL(socketUrls[0] ?? '').searchParams.get('events')).toBe(LIVE_EVENT_TYPES.join(','));

    const checked = await register({
      name: 'weather-station',
      type: 'iot',
      tags: ['sensors', 'garden'],
      ttl: 300,
      health_check_url: 'http://10.20.0.9:8080/health',
      metadata: { firmware: '2.4.1' },
    });
    await register({ name: 'grafana', type: 'http', tags: ['monitoring'], ttl: 600 });
    await register({ name: 'mqtt-broker', type: 'mqtt', protocol: 'mqtt', port: 1883, tags: ['iot', 'broker'], ttl: 900 });
    await publishChecks(checked, [12, 15, 11, 18, 24, 16, 13, 40, 14, 12, 17, 15]);

    // The silent one: ttl 10, no heartbeats; ttl-reaper expires it.
    const silent = await register({ name: 'silent-sensor', type: 'iot', tags: ['sensors'], ttl: 10 });
    const registeredAt = Date.now();
    await row(silent.service_id).waitFor({ timeout: 3000 });
    const appearedMs = Date.now() - registeredAt;
    const silentRow = row(silent.service_id);
    await expect(silentRow.locator('td[data-status]').getAttribute('data-status')).resolves.toBe('active');
    await expect(silentRow.locator('.endpoint code').textContent()).resolves.toBe(`10.20.0.1:${silent.port}`);
    // Counting down, and ticking.
    const before = await silentRow.locator('td.expiry').textContent();
    expect(before).toMatch(/^\d+s$/);
    await waitFor('the countdown to move', async () => (await silentRow.locator('td.expiry').textContent()) !== before, 2500);
    await waitFor('counts', async () => (await count('total')) === '4' && (await count('active')) === '4', 2000);

    // The filter matches name, type, tags and host, instantly.
    await page.fill('#filter', 'garden');
    expect(await page.locator('#rows tr:not([hidden])').count()).toBe(1);
    await expect(row(checked.service_id).isVisible()).resolves.toBe(true);
    await page.fill('#filter', 'iot');
    expect(await page.locator('#rows tr:not([hidden])').count()).toBe(3);
    await expect(page.locator('#shown').textContent()).resolves.toBe('Showing 3 of 4');
    await page.fill('#filter', '');
    expect(await page.locator('#rows tr:not([hidden])').count()).toBe(4);

    // Copy: the Clipboard API where it exists ...
    await silentRow.locator('button.copy').click();
    await silentRow.locator('button.copy:text-is("Copied")').waitFor({ timeout: 1000 });
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(`http://10.20.0.1:${silent.port}`);
    // ... and the execCommand fallback where it does not (plain http on a LAN address).
    await page.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true })");
    const mqtt = page.locator('#rows tr', { hasText: 'mqtt-broker' });
    await mqtt.locator('button.copy').click();
    await mqtt.locator('button.copy:text-is("Copied")').waitFor({ timeout: 1000 });
    const clipboard = "Object.getOwnPropertyDescriptor(Navigator.prototype, 'clipboard').get.call(navigator).readText()";
    await expect(page.evaluate(clipboard)).resolves.toMatch(/^mqtt:\/\/10\.20\.0\.1:1883$/);

    // Details with check history and the sparkline, by mouse.
    await row(checked.service_id).locator('td.type').click();
    await page.locator('#details:not([hidden])').waitFor();
    await expect(page.locator('#details-title').textContent()).resolves.toBe('weather-station');
    await page.locator('#checks-state[data-state="loaded"]').waitFor({ timeout: 3000 });
    expect(await page.locator('#checks-rows tr').count()).toBe(12);
    await expect(page.locator('#checks-spark svg polyline').getAttribute('points')).resolves.toMatch(
      /^(\d+\.\d,\d+\.\d ){11}\d+\.\d,\d+\.\d$/,
    );
    expect(await page.locator('#checks-spark svg circle.spark-fail').count()).toBe(1);
    await screenshot('dashboard-services.png');
    // Escape closes it and gives focus back.
    await page.keyboard.press('Escape');
    await page.locator('#details').waitFor({ state: 'hidden' });

    // Expired on time: the status cell flips and the reaper's service_expired event lands (a newer revision).
    const deadline = Date.parse(silent.expires_at) + 3000;
    expect(deadline - registeredAt).toBeLessThanOrEqual(13_500);
    await silentRow.locator('td[data-status="expired"]').waitFor({ timeout: Math.max(0, deadline - Date.now()) });
    await waitFor(
      "the reaper's service_expired event applied",
      async () => Number(await silentRow.getAttribute('data-revision')) > silent.revision,
      Math.max(500, deadline - Date.now()),
    );
    const expiredAfterMs = Date.now() - registeredAt;
    await expect(silentRow.locator('td.expiry').textContent()).resolves.toBe('expired');
    await waitFor('counts after expiry', async () => (await count('expired')) === '1' && (await count('active')) === '3', 2000);

    // Details of the expired one, by keyboard.
    await silentRow.locator('.name-button').focus();
    await page.keyboard.press('Enter');
    await page.locator('#details:not([hidden])').waitFor();
    await expect(page.locator('#details-title').textContent()).resolves.toBe('silent-sensor');
    await expect(page.locator('#details-fields dd[data-status]').getAttribute('data-status')).resolves.toBe('expired');
    await page.locator('#checks-state[data-state="empty"]').waitFor({ timeout: 3000 });
    await expect(page.locator('#checks-state').textContent()).resolves.toContain('No checks yet');
    await screenshot('dashboard.png');
    await page.keyboard.press('Escape');

    // Renewals move the countdowns (service_heartbeat); a heartbeat brings the expired one back, in place.
    const grafana = page.locator('#rows tr', { hasText: 'grafana' });
    const grafanaId = (await grafana.getAttribute('data-service-id')) ?? '';
    expect(await grafana.locator('td.expiry').textContent()).toMatch(/^9m [0-4]\ds$/);
    await heartbeat(grafanaId);
    await waitFor(
      'the countdown reset by the heartbeat',
      async () => /^(10m 0s|9m 59s)$/.test((await grafana.locator('td.expiry').textContent()) ?? ''),
      2000,
    );
    await heartbeat(silent.service_id);
    await silentRow.locator('td[data-status="active"]').waitFor({ timeout: 2000 });
    // Deregistered: the row goes.
    expect((await fetch(`${registry.base}/services/${grafanaId}`, { method: 'DELETE' })).status).toBe(204);
    await grafana.waitFor({ state: 'detached', timeout: 2000 });
    await waitFor('counts after the changes', async () => (await count('total')) === '3' && (await count('active')) === '3', 2000);
    expect(await page.locator('#rows tr').count()).toBe(3);

    await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);
    expect(unexpected(consoleErrors)).toEqual([]);
    console.log(`dashboard: row shown ${appearedMs} ms after registration; expired shown ${expiredAfterMs} ms after it (ttl 10 s)`);
  });

  it('reconnects after the gateway restarts and resumes with since= (no reload, nothing missed)', async () => {
    await page.goto(gateway.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 });
    await page.evaluate('window.__sameDocument = true');
    const port = gateway.port;
    await gateway.stop();
    await page.locator('#connection[data-state="reconnecting"]').waitFor({ timeout: 3000 });
    // Registered while the page is cut off: it must come from the stream replay.
    const missed = await register({ name: 'registered-while-offline', type: 'http', ttl: 300 });
    gateway = await startApp('realtime-gateway', {
      env: { ...gatewayEnv(), HTTP_PORT: String(port) },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
    });
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
    await row(missed.service_id).waitFor({ timeout: 3000 });
    expect(socketUrls.at(-1)).toMatch(/[?&]since=\d+/);
    expect(socketUrls.at(-1)).not.toContain('snapshot=true');
    await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);
    // While the gateway was down Chromium logs each refused connection; nothing else is allowed.
    expect(unexpected(consoleErrors).filter((text) => !/WebSocket connection to .* failed/.test(text))).toEqual([]);
  });

  it('trades ?token= for a session cookie the WebSocket carries, and sends it as a bearer token to the REST API', async () => {
    const secured = await startApp('realtime-gateway', {
      env: { ...gatewayEnv(), BEACON_AUTH_TOKEN: 'dash-secret' },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
    });
    await register({ name: 'token-holder', type: 'http', ttl: 300 });
    const context = await (browser as Browser).newContext();
    try {
      const refused = await context.newPage();
      await refused.goto(secured.url);
      await refused.locator('#connection[data-state="reconnecting"]').waitFor({ timeout: 3000 });
      await expect(refused.locator('#connection').textContent()).resolves.toContain('?token=');
      await refused.close();

      const allowed = await context.newPage();
      const sockets: string[] = [];
      const authorization: string[] = [];
      allowed.on('websocket', (socket) => sockets.push(socket.url()));
      allowed.on('request', (request) => {
        if (request.url().includes('/health-checks'))
          void request.allHeaders().then((headers) => authorization.push(headers.authorization ?? 'none'));
      });
      await allowed.goto(`${secured.url}/?token=dash-secret`);
      await allowed.locator('#connection[data-state="live"]').waitFor({ timeout: 3000 });
      await allowed.locator('#rows tr .name-button').first().click();
      await allowed.locator('#checks-state[data-state="loaded"], #checks-state[data-state="empty"]').waitFor({ timeout: 3000 });
      // The token left the URLs: the address bar and the socket's; an HttpOnly cookie carries it.
      expect(sockets[0]).not.toContain('token=');
      expect(allowed.url()).not.toContain('token=');
      expect(await context.cookies(secured.url)).toEqual([
        expect.objectContaining({ name: 'beacon_token', httpOnly: true, sameSite: 'Strict' }),
      ]);
      await waitFor('the health-checks request seen', () => authorization.length > 0, 1000);
      expect(authorization).toEqual(['Bearer dash-secret']);
    } finally {
      await context.close();
      await secured.stop();
    }
  });
  it('shows the registry statistics line with the numbers GET /api/v1/stats gives (seed 003)', async () => {
    await register({ name: 'counted', type: 'http', ttl: 300 });
    const context = await (browser as Browser).newContext();
    try {
      const statsPage = await context.newPage();
      const errors: string[] = [];
      statsPage.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await statsPage.goto(gateway.url);
      const line = statsPage.locator('#stats');
      await statsPage.locator('#stats[data-state="ok"]').waitFor({ timeout: 10_000 });
      const format = new Intl.NumberFormat('en-US');
      // The page polls every 5 s, and a reaper or a check may move the numbers in between: compare like with like.
      await waitFor(
        'the statistics line to match GET /api/v1/stats',
        async () => {
          const stats = (await (await fetch(`${registry.base}/stats`)).json()) as RegistryStatsResponse;
          const text = (await line.textContent()) ?? '';
          const types = Object.entries(stats.services.by_type).filter(([, n]) => n > 0);
          return (
            text.startsWith(`Revision ${format.format(stats.revision)} · `) &&
            text.includes(`${stats.checks_last_minute} checks and ${stats.events_last_minute} events in the last minute`) &&
            types.length > 0 &&
            types.every(([type, n]) => text.includes(`${n} ${type}`))
          );
        },
        15_000,
        250,
      );
      expect(await line.textContent()).toMatch(/· health: (\d+ (healthy|degraded|unhealthy|unknown)(, )?)+ · types: /);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
