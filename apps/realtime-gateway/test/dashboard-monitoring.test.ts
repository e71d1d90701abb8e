import type { IncidentList, Service, UptimeOverview } from '@beacon/contracts';
import { fetchJson, startApp, startRegistry, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, screenshot, scrollsSideways, type PageOptions, type WatchedPage } from './browser';

/**
 * The dashboard's monitoring half in Debian's Chromium against real processes:
 * nats-server, registry-api (writes need a token), ttl-reaper, health-prober checking a
 * real HTTP target on loopback, and two realtime-gateways serving the page: one open
 * (no token of its own) and one that needs the same token.
 */
const TOKEN = 'monitoring-secret';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const HOSTILE = '<img src=x onerror=alert(1)>';

let registry: RegistryFixture;
let reaper: AppProcess;
let prober: AppProcess;
let openGateway: AppProcess;
let securedGateway: AppProcess;
let browser: Browser;
let target: Server;
let targetPort = 0;
/** Paths of the target that answer 500 (the rest answer 200). */
const failingPaths = new Set<string>();
const pages: WatchedPage[] = [];

async function register(body: Record<string, unknown>): Promise<Service> {
  const response = await fetchJson<Service>(
    'POST',
    `${registry.base}/services/register`,
    { host: '10.30.0.1', port: 1000 + Math.floor(Math.random() * 60000), ttl: 600, ...body },
    { headers: AUTH },
  );
  expect(response.status, response.text).toBe(201);
  return response.body;
}

async function clearCatalog(): Promise<void> {
  for (;;) {
    const listed = await fetchJson<{ services: Service[] }>('GET', `${registry.base}/services?limit=100`);
    if (listed.body.services.length === 0) return;
    for (const service of listed.body.services) {
      expect((await fetchJson('DELETE', `${registry.base}/services/${service.service_id}`, undefined, { headers: AUTH })).status).toBe(204);
    }
  }
}

/** A service checked every second against the loopback target; `fail` makes its path answer 500. */
function checked(name: string, path: string, extra: Record<string, unknown> = {}): Promise<Service> {
  return register({
    name,
    type: 'http',
    host: '127.0.0.1',
    port: targetPort,
    health_check_url: `http://127.0.0.1:${targetPort}${path}`,
    health_check_interval: 1,
    health_check_retries: 1,
    ...extra,
  });
}

async function open(gateway: AppProcess, path = '/', options: PageOptions = {}): Promise<Page> {
  const watched = await openPage(browser, options);
  pages.push(watched);
  await watched.page.goto(`${gateway.url}${path}`);
  await watched.page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
  return watched.page;
}

const row = (page: Page, id: string): ReturnType<Page['locator']> => page.locator(`#rows tr[data-service-id="${id}"]`);
const visibleNames = (page: Page): Promise<string[]> =>
  page.locator('#rows tr[data-service-id]:not([hidden]) .name-button').allTextContents();

/** The rows shown, in order: group headers as `[group]`, services by name. */
const shownRows = (page: Page): Promise<string[]> =>
  page.evaluate<string[]>(
    `[...document.querySelectorAll('#rows tr:not([hidden])')].map((tr) => tr.classList.contains('group-row') ? '[' + tr.dataset.group + ']' : tr.querySelector('.name-button').textContent)`,
  );

const background = (page: Page): Promise<string> => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');

/** Whether registry-api's CORS preflight lets a page on `origin` send DELETE. */
async function deleteAllowedCrossOrigin(origin: string): Promise<boolean> {
  const response = await fetch(`${registry.base}/services/x`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
  });
  return (response.headers.get('access-control-allow-methods') ?? '').split(',').some((method) => method.trim() === 'DELETE');
}

/** Whether this registry-api serves incidents. */
async function incidentsServed(): Promise<boolean> {
  return (await fetch(`${registry.base}/incidents?status=open`)).status === 200;
}

beforeAll(async () => {
  target = createServer((request, response) => {
    const failing = failingPaths.has(request.url ?? '');
    response.writeHead(failing ? 500 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: failing ? 'down' : 'ok' }));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as AddressInfo).port;
  // 2-second uptime windows: bars have history within a test.
  registry = await startRegistry({ env: { CORS_ORIGINS: '*', BEACON_AUTH_TOKEN: TOKEN, BEACON_UPTIME_WINDOW_SECONDS: '2' } });
  const nats = registry.nats.url;
  const gatewayEnv = { NATS_URL: nats, BEACON_PUBLIC_API_URL: registry.api.url };
  [reaper, prober, openGateway, securedGateway, browser] = await Promise.all([
    startApp('ttl-reaper', { env: { NATS_URL: nats }, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('health-prober', { env: { NATS_URL: nats, BEACON_RESYNC_INTERVAL: '2' }, portVariable: 'HTTP_PORT' }),
    startApp('realtime-gateway', { env: gatewayEnv, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    startApp('realtime-gateway', { env: { ...gatewayEnv, BEACON_AUTH_TOKEN: TOKEN }, portVariable: 'HTTP_PORT', readyPath: '/ready' }),
    launchChromium(),
  ]);
});

afterEach(async () => {
  for (const watched of pages.splice(0)) await watched.context.close();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([openGateway?.stop(), securedGateway?.stop(), reaper?.stop(), prober?.stop()]);
  await registry?.dispose();
  await new Promise((resolve) => target?.close(resolve));
});

describe('dashboard: layout, filters, order', () => {
  it('fits a 390 px phone (no sideways scroll; name, status and health of every row visible), in light and dark, and renders hostile names as text', async () => {
    await clearCatalog();
    failingPaths.add('/layout-down');
    const up = await checked('checked-ok', '/layout-ok', { tags: ['public', 'web'] });
    const down = await checked('checked-down', '/layout-down', { tags: ['web'] });
    await register({ name: 'a-very-long-service-name-that-would-not-fit-a-phone-screen-at-all', type: 'database', tags: ['db'] });
    await register({ name: HOSTILE, type: 'iot', tags: [HOSTILE] });
    const paused = await register({ name: 'paused-worker', type: 'worker' });
    expect(
      (await fetchJson('PUT', `${registry.base}/services/${paused.service_id}`, { status: 'inactive' }, { headers: AUTH })).status,
    ).toBe(200);

    const windowsServed = (await fetch(`${registry.base}/uptime?windows=90`)).status === 200;
    if (windowsServed) {
      await waitFor(
        'a closed window with checks of the healthy service',
        async () => {
          const overview = (await fetchJson<UptimeOverview>('GET', `${registry.base}/uptime?windows=90`)).body;
          const bar = overview.services.find((entry) => entry.service_id === up.service_id);
          return bar?.availability.some((value) => value === 1) && bar.latency_p50.some((value) => value !== null);
        },
        15_000,
        250,
      );
    }
    let dialogs = 0;
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1280, 390]) {
        const page = await open(openGateway, '/', { width, height: 820, colorScheme });
        page.on('dialog', (dialog) => {
          dialogs += 1;
          void dialog.dismiss();
        });
        await waitFor('every row', async () => (await page.locator('#rows tr[data-service-id]').count()) === 5, 5000);
        await row(page, down.service_id).locator('td[data-status="unhealthy"]').waitFor({ timeout: 15_000 });
        if (windowsServed) {
          // The healthy one's bar has green windows, and a latency line, in its row.
          const cell = row(page, up.service_id).locator('td.uptime');
          await cell.locator('svg.uptime-bar path.bar-up').waitFor({ timeout: 5000 });
          await cell.locator('svg.latency-line').waitFor({ timeout: 5000 });
          // A line, or a dot where a window stands alone.
          const line = await cell.locator('svg.latency-line path').getAttribute('d');
          expect(/L/.test(line ?? '') || (await cell.locator('svg.latency-line circle').count()) > 0).toBe(true);
          await expect(cell.locator('.uptime-value').textContent()).resolves.toMatch(/^\d+(\.\d+)?%$/);
        }
        await screenshot(page, `dashboard-${width}-${colorScheme}.png`);
        if (width === 390) {
          expect(await scrollsSideways(page)).toBe(false);
          for (const tr of await page.locator('#rows tr[data-service-id]').all()) {
            for (const part of ['.name-button', 'td.status .badge', 'td.health .badge']) {
              const box = await tr.locator(part).boundingBox();
              expect(box, part).not.toBeNull();
              expect(box!.x).toBeGreaterThanOrEqual(0);
              expect(box!.x + box!.width).toBeLessThanOrEqual(390);
              expect(box!.width).toBeGreaterThan(10);
            }
          }
          // The long name wraps instead of being cut.
          const fits = `[...document.querySelectorAll('.name-button')].every((button) => button.scrollWidth <= button.clientWidth + 1)`;
          expect(await page.evaluate<boolean>(fits)).toBe(true);
        }
        expect(await background(page)).toBe(colorScheme === 'dark' ? 'rgb(15, 18, 23)' : 'rgb(246, 247, 249)');
        // The hostile name is text: no <img> anywhere, the exact characters shown.
        expect(await page.locator('img').count()).toBe(0);
        await expect(page.locator('.name-button', { hasText: '<img' }).textContent()).resolves.toBe(HOSTILE);
        await expect(page.locator('#rows .tag', { hasText: '<img' }).textContent()).resolves.toBe(HOSTILE);
      }
    }
    expect(dialogs).toBe(0);
    failingPaths.delete('/layout-down');
  });

  it('filters by the status pills and by status or health typed in the filter; sorts by column, problems first, and groups', async () => {
    await clearCatalog();
    failingPaths.add('/filter-down');
    const down = await checked('bravo-down', '/filter-down', { type: 'api', tags: ['edge'] });
    const healthy = await checked('delta-up', '/filter-up', { type: 'api', tags: ['core'] });
    const paused = await register({ name: 'alpha-paused', type: 'worker', tags: ['core'], host: '10.30.0.9' });
    expect(
      (await fetchJson('PUT', `${registry.base}/services/${paused.service_id}`, { status: 'inactive' }, { headers: AUTH })).status,
    ).toBe(200);
    await register({ name: 'charlie', type: 'worker', tags: ['edge'], host: '10.30.0.9' });
    const page = await open(openGateway);
    await row(page, down.service_id).locator('td[data-status="unhealthy"]').waitFor({ timeout: 15_000 });
    await row(page, healthy.service_id).locator('td[data-health="healthy"]').waitFor({ timeout: 15_000 });
    expect(await visibleNames(page)).toEqual(['alpha-paused', 'bravo-down', 'charlie', 'delta-up']);

    // Pills: one status, then two, then all again.
    await page.click('#counts button[data-count="unhealthy"]');
    expect(await visibleNames(page)).toEqual(['bravo-down']);
    await expect(page.locator('#counts button[data-count="unhealthy"]').getAttribute('aria-pressed')).resolves.toBe('true');
    await page.click('#counts button[data-count="inactive"]');
    expect(await visibleNames(page)).toEqual(['alpha-paused', 'bravo-down']);
    await expect(page.locator('#shown').textContent()).resolves.toBe('Showing 2 of 4');
    await page.click('#counts button[data-count="total"]');
    expect(await visibleNames(page)).toHaveLength(4);

    // The text filter matches status and health too.
    await page.fill('#filter', 'unhealthy');
    expect(await visibleNames(page)).toEqual(['bravo-down']);
    await page.fill('#filter', 'inactive');
    expect(await visibleNames(page)).toEqual(['alpha-paused']);
    await page.fill('#filter', 'healthy api');
    // "healthy" is also inside "unhealthy": both api services.
    expect(await visibleNames(page)).toEqual(['bravo-down', 'delta-up']);
    await page.fill('#filter', '');

    // Column headers sort, a second click reverses.
    await page.click('#catalog th[data-sort="name"] button');
    expect(await visibleNames(page)).toEqual(['delta-up', 'charlie', 'bravo-down', 'alpha-paused']);
    await expect(page.locator('#catalog th[data-sort="name"]').getAttribute('aria-sort')).resolves.toBe('descending');
    await page.click('#catalog th[data-sort="type"] button');
    expect((await visibleNames(page)).slice(0, 2)).toEqual(['bravo-down', 'delta-up']);
    // Problems first: the unhealthy one, then the paused one.
    await page.selectOption('#sort', 'problems');
    expect((await visibleNames(page)).slice(0, 2)).toEqual(['bravo-down', 'alpha-paused']);

    // Grouped by tag (the first tag): a header row before each group, names ordered within.
    await page.selectOption('#sort', 'name');
    await page.selectOption('#group', 'tag');
    expect(await shownRows(page)).toEqual(['[core]', 'alpha-paused', 'delta-up', '[edge]', 'bravo-down', 'charlie']);
    await page.selectOption('#group', 'host');
    expect((await shownRows(page)).filter((text) => text.startsWith('['))).toEqual(['[10.30.0.9]', '[127.0.0.1]']);
    // A filter hides a group whose rows are all hidden.
    await page.fill('#filter', 'charlie');
    expect(await page.locator('#rows tr.group-row:not([hidden])').count()).toBe(1);
    await page.fill('#filter', '');
    await screenshot(page, 'dashboard-grouped.png');
    // The order survives a reload (this tab's session).
    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor();
    await expect(page.locator('#group').inputValue()).resolves.toBe('host');
    failingPaths.delete('/filter-down');
  });

  it('links http(s) endpoints safely, opens a service from its own URL after a reload, and keeps "Last check" current', async () => {
    await clearCatalog();
    const web = await checked('linked-web', '/link-ok');
    const mqtt = await register({ name: 'broker', type: 'mqtt', protocol: 'mqtt', port: 1883 });
    const page = await open(openGateway);
    const link = row(page, web.service_id).locator('a.endpoint-link');
    await expect(link.getAttribute('href')).resolves.toBe(`http://127.0.0.1:${targetPort}/`);
    await expect(link.getAttribute('rel')).resolves.toBe('noopener noreferrer');
    expect(await row(page, mqtt.service_id).locator('a').count()).toBe(0);

    await row(page, web.service_id).locator('.name-button').click();
    expect(new URL(page.url()).hash).toBe(`#/services/${web.service_id}`);
    await page.reload();
    await page.locator('#details:not([hidden])').waitFor({ timeout: 10_000 });
    await expect(page.locator('#details-title').textContent()).resolves.toBe('linked-web');
    // Its uptime by period, once registry-api serves it.
    if ((await fetch(`${registry.base}/services/${web.service_id}/uptime`)).status === 200) {
      await page.locator('#uptime-state[data-state="loaded"], #uptime-state[data-state="empty"]').waitFor({ timeout: 5000 });
      expect(await page.locator('#uptime-periods dd').count()).toBe(4);
    }
    // Checked every second: the line moves with the checks and with the clock.
    const lastCheck = page.locator('#details-fields dd.last-check');
    await waitFor('a check shown', async () => /ago|just now/.test((await lastCheck.textContent()) ?? ''), 10_000);
    const first = await lastCheck.textContent();
    await waitFor('"Last check" to move', async () => (await lastCheck.textContent()) !== first, 5000);
    // Closing forgets the address; the back button's address opens it again.
    await page.click('#details-close');
    expect(new URL(page.url()).hash).toBe('');
    await page.goto(`${openGateway.url}/#/services/${mqtt.service_id}`);
    await page.locator('#details-title', { hasText: 'broker' }).waitFor({ timeout: 5000 });
  });

  it('remembers the theme toggle over the system setting', async () => {
    const page = await open(openGateway, '/', { colorScheme: 'light' });
    await expect(background(page)).resolves.toBe('rgb(246, 247, 249)');
    await page.click('#theme-toggle');
    await expect(background(page)).resolves.toBe('rgb(15, 18, 23)');
    await expect(page.locator('#theme-toggle').getAttribute('aria-pressed')).resolves.toBe('true');
    await page.reload();
    await expect(background(page)).resolves.toBe('rgb(15, 18, 23)');
    // The status page shares the choice.
    await page.goto(`${openGateway.url}/status`);
    await expect(background(page)).resolves.toBe('rgb(15, 18, 23)');
    await page.click('#theme-toggle');
    await page.goto(openGateway.url);
    await expect(background(page)).resolves.toBe('rgb(246, 247, 249)');
  });
});

describe('dashboard: actions and incidents', () => {
  it('checks now and deregisters with the token; refused (and said so) without it; hidden once the page has no token', async () => {
    await clearCatalog();
    const service = await checked('actionable', '/act-ok');
    const doomed = await register({ name: 'doomed', type: 'http' });

    // The open gateway's page offers the actions, and registry-api refuses them without a token.
    const refused = await open(openGateway, `/#/services/${service.service_id}`);
    await refused.locator('#details-actions:not([hidden])').waitFor({ timeout: 5000 });
    await refused.click('#action-check');
    await refused.locator('#action-state[data-state="error"]').waitFor({ timeout: 5000 });
    await expect(refused.locator('#action-state').textContent()).resolves.toMatch(/^Check failed: 401.*token/);

    // With ?token= on the secured gateway: check now answers the result, deregister asks first.
    const page = await open(securedGateway, `/?token=${TOKEN}#/services/${service.service_id}`);
    await page.locator('#details:not([hidden])').waitFor({ timeout: 5000 });
    await page.click('#action-check');
    await page.locator('#action-state[data-state="ok"]').waitFor({ timeout: 10_000 });
    await expect(page.locator('#action-state').textContent()).resolves.toMatch(/^Checked: healthy, HTTP 200, \d+ ms$/);
    await row(page, doomed.service_id).locator('.name-button').click();
    await page.click('#action-deregister');
    await page.locator('#action-confirm:not([hidden])').waitFor();
    await page.click('#action-confirm-no');
    await expect(page.locator('#action-confirm').isHidden()).resolves.toBe(true);
    expect((await fetch(`${registry.base}/services/${doomed.service_id}`)).status).toBe(200);
    await page.click('#action-deregister');
    await page.click('#action-confirm-yes');
    // registry-api is on another origin: its CORS preflight must allow DELETE.
    expect(await deleteAllowedCrossOrigin(securedGateway.url)).toBe(true);
    await row(page, doomed.service_id).waitFor({ state: 'detached', timeout: 5000 });
    await page.locator('#details-gone:not([hidden])').waitFor();
    expect((await fetch(`${registry.base}/services/${doomed.service_id}`)).status).toBe(404);

    // Reloaded, the page keeps its session cookie (the feed works) but not the token: no actions.
    await page.goto(`${securedGateway.url}/#/services/${service.service_id}`);
    // Only the hash differed: a same-document navigation; the reload starts the page afresh.
    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 });
    await page.locator('#details:not([hidden])').waitFor({ timeout: 5000 });
    await expect(page.locator('#details-actions').isHidden()).resolves.toBe(true);
  });

  it('shows an open incident at the top with its duration counting, acknowledges it with the token, and lists it in the history once resolved', async () => {
    await clearCatalog();
    expect(await incidentsServed()).toBe(true);
    failingPaths.add('/incident-down');
    await register({ name: 'aaa-quiet', type: 'http' });
    const page = await open(securedGateway, `/?token=${TOKEN}`);
    // Opened after the page is live: the incident arrives over the WebSocket.
    const service = await checked('incident-maker', '/incident-down');
    const item = page.locator('#incidents-list li.incident', { hasText: 'incident-maker' });
    await item.waitFor({ timeout: 20_000 });
    // Its row is marked, and "problems first" puts it above the quiet one.
    await row(page, service.service_id).locator('xpath=self::tr[contains(@class, "has-incident")]').waitFor({ timeout: 2000 });
    await page.selectOption('#sort', 'problems');
    expect(await visibleNames(page)).toEqual(['incident-maker', 'aaa-quiet']);
    // At the top of the page, above the catalog.
    const [incidentTop, tableTop] = await Promise.all([item.boundingBox(), page.locator('#catalog').boundingBox()]);
    expect(incidentTop!.y).toBeLessThan(tableTop!.y);
    const duration = item.locator('.incident-duration');
    const before = await duration.textContent();
    await waitFor('the duration to count', async () => (await duration.textContent()) !== before, 3000);
    await screenshot(page, 'dashboard-incident.png');
    await item.locator('button[data-action="acknowledge"]').click();
    await item.locator('.incident-ack').waitFor({ timeout: 5000 });
    const listed = await fetchJson<IncidentList>('GET', `${registry.base}/incidents?status=open&service_id=${service.service_id}`);
    expect(listed.body.incidents[0]?.acknowledged_at).not.toBeNull();

    // Resolved by hand from the page: it leaves the list and the history says so.
    const id = (await item.getAttribute('data-incident-id')) ?? '';
    await page.click('#history-toggle');
    await item.locator('button[data-action="resolve"]').click();
    await page.locator(`#incidents-list li[data-incident-id="${id}"]`).waitFor({ state: 'detached', timeout: 5000 });
    const resolved = page.locator(`#history-list li[data-incident-id="${id}"]`);
    await resolved.waitFor({ timeout: 5000 });
    await expect(resolved.textContent()).resolves.toContain('resolved by hand');

    // Still failing, it may open again; once the target recovers, whatever is open resolves by itself.
    failingPaths.delete('/incident-down');
    // A check already under way when the target recovered may open one more, which the
    // recovery then resolves: wait for the registry to hold none open, then for the page.
    await waitFor(
      'no open incident of the service in the registry',
      async () =>
        (await fetchJson<IncidentList>('GET', `${registry.base}/incidents?status=open&service_id=${service.service_id}`)).body.incidents
          .length === 0,
      20_000,
      250,
    );
    await waitFor(
      'no open incident of the service on the page',
      async () => (await page.locator('#incidents-list li.incident', { hasText: 'incident-maker' }).count()) === 0,
      20_000,
      250,
    );
  });
});
