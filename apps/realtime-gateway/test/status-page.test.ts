import type { Service, StatusPage } from '@beacon/contracts';
import { fetchJson, startApp, startRegistry, waitFor, type AppProcess, type RegistryFixture } from '@beacon/testing';
import type { Browser, Page } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, screenshot, scrollsSideways, type PageOptions, type WatchedPage } from './browser';

/**
 * The read-only status page at /status in Debian's Chromium, against real processes:
 * registry-api on its own origin (as BEACON_PUBLIC_API_URL, with 2-second uptime windows so
 * history exists within the test), health-prober checking a real HTTP target on loopback,
 * and realtime-gateway serving the page. A second registry-api guards reads with a token.
 */
const HOSTILE = '<img src=x onerror=alert(1)>';
const TOKEN = 'status-secret';

let registry: RegistryFixture;
let gateway: AppProcess;
let guarded: RegistryFixture;
let guardedGateway: AppProcess;
let browser: Browser;
let prober: AppProcess;
let target: Server;
let targetPort = 0;
/** Whether the target answers 500. */
let targetFailing = false;
const pages: WatchedPage[] = [];

const gatewayFor = (api: RegistryFixture): Promise<AppProcess> =>
  startApp('realtime-gateway', {
    env: { NATS_URL: api.nats.url, BEACON_PUBLIC_API_URL: api.api.url },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });

async function open(url: string, options: PageOptions = {}): Promise<WatchedPage> {
  const watched = await openPage(browser, options);
  pages.push(watched);
  watched.page.on('dialog', (dialog) => {
    watched.errors.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await watched.page.goto(url);
  await watched.page.locator('#overall:not([data-state="loading"])').waitFor({ timeout: 10_000 });
  return watched;
}

/** Whether this registry-api serves the status page document yet (the page must cope either way). */
async function statusPageServed(base: string, headers: Record<string, string> = {}): Promise<boolean> {
  return (await fetch(`${base}/status-page`, { headers })).status === 200;
}

const names = (page: Page): Promise<string[]> => page.locator('#status-services .service-name').allTextContents();

beforeAll(async () => {
  target = createServer((_request, response) => {
    response.writeHead(targetFailing ? 500 : 200, { 'content-type': 'application/json' });
    response.end('{}');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as AddressInfo).port;
  [registry, guarded, browser] = await Promise.all([
    startRegistry({ env: { CORS_ORIGINS: '*', BEACON_UPTIME_WINDOW_SECONDS: '2' } }),
    startRegistry({ env: { CORS_ORIGINS: '*', BEACON_AUTH_TOKEN: TOKEN, BEACON_AUTH_READS: 'true' } }),
    launchChromium(),
  ]);
  [gateway, guardedGateway, prober] = await Promise.all([
    gatewayFor(registry),
    gatewayFor(guarded),
    startApp('health-prober', { env: { NATS_URL: registry.nats.url, BEACON_RESYNC_INTERVAL: '2' }, portVariable: 'HTTP_PORT' }),
  ]);
});

afterEach(async () => {
  for (const watched of pages.splice(0)) await watched.context.close();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([gateway?.stop(), guardedGateway?.stop(), prober?.stop()]);
  await Promise.all([registry?.dispose(), guarded?.dispose()]);
  await new Promise((resolve) => target?.close(resolve));
});

describe('status page', () => {
  it('lists the public services with 90-day bars, hostile names as text, on a phone and a desktop, light and dark', async () => {
    const shown = await registry.register<Service>({ name: 'homepage', type: 'http', tags: ['public'], ttl: 600 });
    await registry.register<Service>({ name: HOSTILE, type: 'http', tags: ['public', 'web'], ttl: 600 });
    await registry.register<Service>({ name: 'internal-db', type: 'database', tags: ['private'], ttl: 600 });
    const served = await statusPageServed(registry.base);

    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1280, 390]) {
        const { page, errors } = await open(`${gateway.url}/status`, { width, height: 800, colorScheme });
        await screenshot(page, `status-${width}-${colorScheme}.png`);
        expect(await scrollsSideways(page)).toBe(false);
        if (!served) {
          await expect(page.locator('#overall').textContent()).resolves.toMatch(/^No status data/);
          expect(errors.filter((text) => !/Failed to load resource.*404/.test(text))).toEqual([]);
          continue;
        }
        const document = (await fetchJson<StatusPage>('GET', `${registry.base}/status-page`)).body;
        // Only the public-tagged services, as the API lists them; the private one never.
        await waitFor('the services listed', async () => (await names(page)).length === document.services.length, 5000);
        expect((await names(page)).sort()).toEqual([HOSTILE, 'homepage'].sort());
        expect(await page.locator('#status-services').textContent()).not.toContain('internal-db');
        // The hostile name is text.
        expect(await page.locator('img').count()).toBe(0);
        const bar = page.locator(`#status-services li[data-service-id="${shown.service_id}"] svg.uptime-bar`);
        await expect(bar.getAttribute('aria-label')).resolves.toMatch(/over 90 days/);
        expect(document.days).toHaveLength(90);
        await expect(page.locator('#title').textContent()).resolves.toBe(document.title);
        const box = await bar.boundingBox();
        expect(box!.x + box!.width).toBeLessThanOrEqual(width);
        expect(errors).toEqual([]);
      }
    }
  });

  it("shows a public service's incident and its day of uptime once it is checked and fails", async () => {
    const served = await statusPageServed(registry.base);
    if (!served) {
      console.log('status-page: GET /api/v1/status-page answers 404 here; the incident view was not checked');
      return;
    }
    targetFailing = false;
    const checked = await registry.register<Service>({
      name: 'checked-public',
      type: 'http',
      tags: ['public'],
      host: '127.0.0.1',
      port: targetPort,
      health_check_url: `http://127.0.0.1:${targetPort}/`,
      health_check_interval: 1,
      health_check_retries: 1,
    });
    // A closed window of passing checks: today's block has data.
    await waitFor(
      "today's availability",
      async () => {
        const page = (await fetchJson<StatusPage>('GET', `${registry.base}/status-page`)).body;
        return typeof page.services.find((service) => service.service_id === checked.service_id)?.days.at(-1) === 'number';
      },
      15_000,
      250,
    );
    targetFailing = true;
    await waitFor(
      'the incident on the status page',
      async () =>
        (await fetchJson<StatusPage>('GET', `${registry.base}/status-page`)).body.incidents.some(
          (incident) => incident.service_id === checked.service_id,
        ),
      15_000,
      250,
    );
    const { page, errors } = await open(`${gateway.url}/status`, { width: 390 });
    await expect(page.locator('#overall').getAttribute('data-state')).resolves.toBe('down');
    await expect(page.locator('#status-incidents').isVisible()).resolves.toBe(true);
    await expect(page.locator('#status-incident-list li').first().textContent()).resolves.toContain('checked-public');
    const card = page.locator(`#status-services li[data-service-id="${checked.service_id}"]`);
    await expect(card.getAttribute('data-state')).resolves.toBe('down');
    // Today's block (the last) is drawn with data, not as "no data".
    expect(await card.locator('svg.uptime-bar path:not(.bar-none)').count()).toBeGreaterThan(0);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'status-incident-390.png');
    expect(errors).toEqual([]);
    targetFailing = false;
  });

  it('says how to pass a token when registry-api guards reads, and shows the page with one', async () => {
    const served = await statusPageServed(guarded.base, { authorization: `Bearer ${TOKEN}` });
    const refused = await open(`${guardedGateway.url}/status`);
    if (served) {
      await expect(refused.page.locator('#overall').textContent()).resolves.toBe(
        'This registry requires a token to read its status: open this page as /status?token=<token>.',
      );
    } else {
      await expect(refused.page.locator('#overall').textContent()).resolves.toMatch(/^No status data|requires a token/);
    }
    await screenshot(refused.page, 'status-guarded.png');
    const allowed = await open(`${guardedGateway.url}/status?token=${TOKEN}`);
    // The token leaves the address bar at once.
    expect(allowed.page.url()).not.toContain('token=');
    if (served) await expect(allowed.page.locator('#overall').getAttribute('data-state')).resolves.not.toBe('error');
  });
});
