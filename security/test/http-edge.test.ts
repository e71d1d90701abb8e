import type { Service } from '@beacon/contracts';
import {
  REPO_ROOT,
  fetchJson,
  freePort,
  register,
  startApp,
  startNatsServer,
  uniqueName,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
} from '@beacon/testing';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
// playwright-core is realtime-gateway's test dependency (its dashboard suite drives the same
// Chromium): loaded from there, so this suite adds nothing to the lockfile.
import type * as Playwright from '../../apps/realtime-gateway/node_modules/playwright-core';

/**
 * Issue 13, item 5: safe defaults at the HTTP edge, against real registry-api and
 * realtime-gateway processes. What only a browser does (CORS, cookies, CSP, framing) is
 * tried from a real Chromium on an "attacker" page served from another loopback port; the
 * rest with curl and raw requests. Each test first shows the attack working where it is
 * allowed (a listed origin, a client without Origin), then refused by default.
 */
const { chromium } = createRequire(join(REPO_ROOT, 'apps', 'realtime-gateway', 'package.json'))('playwright-core') as typeof Playwright;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** registrySecret's and gatewaySecret's token, as compose and Kubernetes give both the same one. */
const SECRET = uniqueName('secret-token');

let nats: NatsServerHandle;
let dataDir: string;
/** registry-api as shipped: auth off, CORS off. */
let registryDefault: AppProcess;
/** registry-api with CORS_ORIGINS naming the attacker's origin: what CORS on would let through. */
let registryListed: AppProcess;
/**
 * compose's way: BEACON_AUTH_TOKEN empty, SERVICE_DISCOVERY_SECRET set; reads guarded; access
 * log on; CORS_ORIGINS naming gatewaySecret, whose dashboard calls it from its own origin.
 */
let registrySecret: AppProcess;
/** realtime-gateway with the token and the default CORS_ORIGINS; access log on. */
let gatewaySecret: AppProcess;
/** realtime-gateway without a token, CORS_ORIGINS naming the attacker's origin. */
let gatewayListed: AppProcess;
let attacker: Server;
let attackerOrigin: string;
let browser: Playwright.Browser;

/** A page any site could serve; `/frame?src=` frames another page. */
function attackerPage(url: string): string {
  const src = new URL(url, 'http://x').searchParams.get('src');
  return src
    ? `<!doctype html><title>frames</title><iframe id="victim" src="${src}"></iframe>`
    : '<!doctype html><title>attacker</title><p>hello</p>';
}

async function startAttacker(): Promise<void> {
  const port = await freePort();
  attacker = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(attackerPage(request.url ?? '/'));
  });
  await new Promise<void>((resolve) => attacker.listen(port, '127.0.0.1', resolve));
  attackerOrigin = `http://127.0.0.1:${port}`;
}

const startRegistryApi = (name: string, env: Record<string, string>): Promise<AppProcess> =>
  startApp('registry-api', {
    env: { NATS_URL: nats.url, BEACON_SQLITE_PATH: join(dataDir, `${name}.db`), ...env },
    portVariable: 'BEACON_PORT',
  });

const startGateway = (env: Record<string, string>): Promise<AppProcess> =>
  startApp('realtime-gateway', { env: { NATS_URL: nats.url, ...env }, portVariable: 'HTTP_PORT', readyPath: '/ready' });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (CI installs it)`);
  dataDir = mkdtempSync(join(tmpdir(), 'beacon-http-edge-'));
  const [natsServer, registryPort, gatewayPort] = await Promise.all([startNatsServer(), freePort(), freePort(), startAttacker()]);
  nats = natsServer;
  const secretRegistry = `http://127.0.0.1:${registryPort}`;
  const secretGateway = `http://127.0.0.1:${gatewayPort}`;
  // Info, so the start-up lines and the access log are in the output.
  const logged = { LOG_LEVEL: 'info', LOG_HTTP: 'true' };
  [registryDefault, registryListed, registrySecret, gatewaySecret, gatewayListed, browser] = await Promise.all([
    startRegistryApi('default', {}),
    startRegistryApi('listed', { CORS_ORIGINS: attackerOrigin }),
    startRegistryApi('secret', {
      ...logged,
      BEACON_PORT: String(registryPort),
      BEACON_AUTH_TOKEN: '',
      SERVICE_DISCOVERY_SECRET: SECRET,
      BEACON_AUTH_READS: 'true',
      CORS_ORIGINS: secretGateway,
    }),
    startGateway({ ...logged, HTTP_PORT: String(gatewayPort), BEACON_AUTH_TOKEN: SECRET, BEACON_PUBLIC_API_URL: secretRegistry }),
    startGateway({ CORS_ORIGINS: attackerOrigin }),
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([registryDefault, registryListed, registrySecret, gatewaySecret, gatewayListed].map((app) => app?.stop()));
  await new Promise((resolve) => attacker?.close(resolve));
  await nats?.dispose();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh browser profile with a page open at `url`, and the console errors it logs. */
async function openPage(url: string): Promise<{ page: Playwright.Page; context: Playwright.BrowserContext; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(url);
  return { page, context, errors };
}

/** The names of the services registry-api holds (asked without Origin, as a script would). */
async function names(app: AppProcess, token?: string): Promise<string[]> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const listed = await fetchJson<{ services: Service[] }>('GET', `${app.url}/api/v1/services?limit=100`, undefined, { headers });
  expect(listed.status).toBe(200);
  return listed.body.services.map((service) => service.name);
}

/** A GET whose headers and first bytes are all we need (SSE streams never end). */
function head(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      response.once('data', (chunk: Buffer) => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: chunk.toString() });
        request.destroy();
      });
    });
    request.on('error', reject);
    request.end();
  });
}

/** Opens a WebSocket from Node: the greeting's type, or the HTTP status it was refused with. */
function connectWs(url: string, headers: Record<string, string>): Promise<{ status: number; first?: string; body?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('message', (data: Buffer) => {
      resolve({ status: 101, first: (JSON.parse(data.toString()) as { type: string }).type });
      socket.close();
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

/**
 * What a page's `new WebSocket(url)` came to: its first message's type, or 'refused'. Sent as
 * text: in a function, the test's transform would turn `WebSocket` into the imported `ws`.
 */
const browserSocket = (page: Playwright.Page, url: string): Promise<string> =>
  page.evaluate(`new Promise((resolve) => {
    const socket = new WebSocket(${JSON.stringify(url)});
    socket.onmessage = (event) => { resolve(JSON.parse(String(event.data)).type); socket.close(); };
    socket.onerror = () => resolve('refused');
  })`);

const wsUrl = (app: AppProcess): string => `${app.url.replace(/^http/, 'ws')}/api/v1/ws?snapshot=true`;

describe('CORS is off unless CORS_ORIGINS names the page', () => {
  it("another site's page reads nothing from registry-api by default; a listed one can", async () => {
    const name = uniqueName('catalog-entry');
    await Promise.all([register(registryDefault.url, { name }), register(registryListed.url, { name })]);
    const { page, context } = await openPage(attackerOrigin);
    try {
      const read = (app: AppProcess): Promise<string> =>
        page.evaluate(
          (url) =>
            fetch(url).then(
              (response) => response.text(),
              (error: Error) => `refused: ${error.message}`,
            ),
          `${app.url}/api/v1/services`,
        );
      // The attack, where CORS allows it: the page reads the catalog.
      await expect(read(registryListed)).resolves.toContain(name);
      await expect(read(registryDefault)).resolves.toMatch(/^refused/);
    } finally {
      await context.close();
    }
    const preflight = { origin: attackerOrigin };
    expect(
      (await fetchJson('GET', `${registryDefault.url}/api/v1/services`, undefined, { headers: preflight })).headers.get(
        'access-control-allow-origin',
      ),
    ).toBeNull();
    expect(
      (await fetchJson('GET', `${registryListed.url}/api/v1/services`, undefined, { headers: preflight })).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe(attackerOrigin);
  });

  it("another site's page cannot register or run checks, even with a no-cors POST that CORS alone lets through", async () => {
    const { page, context } = await openPage(attackerOrigin);
    const name = uniqueName('forged');
    const forge = (app: AppProcess): Promise<string> =>
      page.evaluate(
        ([url, body]) =>
          // A Blob without a type sends no Content-Type: a "simple" request, no preflight.
          fetch(url, { method: 'POST', mode: 'no-cors', body: new Blob([body]) }).then(
            (response) => response.type,
            (error: Error) => `failed: ${error.message}`,
          ),
        [`${app.url}/api/v1/services/register`, JSON.stringify({ name, host: '10.9.9.9', port: 9 })] as const,
      );
    try {
      // The attack: the request goes out either way (the page just cannot read the answer).
      await expect(forge(registryListed)).resolves.toBe('opaque');
      await expect(forge(registryDefault)).resolves.toBe('opaque');
    } finally {
      await context.close();
    }
    // Where the origin is allowed the forged registration landed; by default it did not.
    expect(await names(registryListed)).toContain(name);
    expect(await names(registryDefault)).not.toContain(name);

    const service = await register(registryDefault.url, { name: uniqueName('target'), health_check_url: 'http://127.0.0.1:9/' });
    const refused = await fetchJson('POST', `${registryDefault.url}/api/v1/services/${service.service_id}/health-check`, undefined, {
      headers: { origin: attackerOrigin },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe(
      `Origin ${attackerOrigin} may not POST here: only pages of this host and origins listed in CORS_ORIGINS may`,
    );
    // The dashboard's own origin and clients without Origin still write.
    const sameOrigin = await fetchJson('PUT', `${registryDefault.url}/api/v1/services/${service.service_id}/heartbeat`, undefined, {
      headers: { origin: registryDefault.url },
    });
    expect(sameOrigin.status).toBe(200);
  });
});

describe("realtime-gateway's WebSocket and SSE check Origin", () => {
  it("a signed-in dashboard's cookie does not let another site's page open the WebSocket", async () => {
    const { page, context, errors } = await openPage(`${gatewaySecret.url}/?token=${SECRET}`);
    try {
      await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
      const [cookie] = await context.cookies(gatewaySecret.url);
      expect(cookie).toMatchObject({ name: 'beacon_token', httpOnly: true, sameSite: 'Strict' });
      // What every other app on this host name receives is no token (see "the dashboard's session cookie").
      expect(cookie?.value).not.toContain(SECRET);
      // Cookies ignore ports: the attacker's page on another loopback port is "same site" and
      // its WebSocket carries the cookie. That cookie does open the stream (no Origin here)...
      const withCookie = { cookie: `beacon_token=${cookie?.value ?? ''}` };
      await expect(connectWs(wsUrl(gatewaySecret), withCookie)).resolves.toEqual({ status: 101, first: 'connection_established' });
      // ...but not from the attacker's origin.
      const refused = await connectWs(wsUrl(gatewaySecret), { ...withCookie, origin: attackerOrigin });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain(`Origin ${attackerOrigin} may not open this stream`);

      const attackerTab = await context.newPage();
      await attackerTab.goto(attackerOrigin);
      await expect(browserSocket(attackerTab, wsUrl(gatewaySecret))).resolves.toBe('refused');
      // Where the origin is listed, the same page's WebSocket is live: the check is what stops it.
      await expect(browserSocket(attackerTab, wsUrl(gatewayListed))).resolves.toBe('connection_established');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('SSE: no Origin and listed origins stream; any other origin gets 403 with a reason', async () => {
    const stream = (app: AppProcess, headers: Record<string, string>) => head(`${app.url}/api/v1/events?token=${SECRET}`, headers);
    const curlLike = await stream(gatewaySecret, {});
    expect(curlLike.status).toBe(200);
    expect(curlLike.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(curlLike.headers['access-control-allow-origin']).toBeUndefined();
    const listed = await stream(gatewayListed, { origin: attackerOrigin });
    expect(listed.status).toBe(200);
    // Only the page that passed the Origin check may read the stream, never any page ("*").
    expect(listed.headers['access-control-allow-origin']).toBe(attackerOrigin);
    const refused = await stream(gatewaySecret, { origin: attackerOrigin });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({
      detail: `Origin ${attackerOrigin} may not open this stream: only pages of this host and origins listed in CORS_ORIGINS may`,
    });
    // Behind nginx the browser's host arrives as X-Forwarded-Host: still the same origin.
    const proxied = await stream(gatewaySecret, { origin: 'https://beacon.example', 'x-forwarded-host': 'beacon.example' });
    expect(proxied.status).toBe(200);
  });
});

describe("the dashboard's session cookie is no token", () => {
  /** Signs in to gatewaySecret and returns the cookie's value, as a browser would store it. */
  async function signIn(headers: Record<string, string> = {}): Promise<{ value: string; setCookie: string }> {
    const session = await fetchJson('POST', `${gatewaySecret.url}/api/v1/session`, { token: SECRET }, { headers });
    expect(session.status).toBe(204);
    const setCookie = session.headers.get('set-cookie') ?? '';
    const value = /^beacon_token=([^;]*);/.exec(setCookie)?.[1] ?? '';
    expect(value).not.toBe('');
    return { value, setCookie };
  }

  it('holds a value derived from the token, never the token', async () => {
    const { value, setCookie } = await signIn();
    expect(setCookie).not.toContain(SECRET);
    expect(setCookie).not.toContain(encodeURIComponent(SECRET));
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The same token gives the same session value on every node (no server-side session store).
    expect((await signIn()).value).toBe(value);
  });

  it('opens the WebSocket, the SSE stream and registry-api reads', async () => {
    const cookie = { cookie: `beacon_token=${(await signIn()).value}` };
    await expect(connectWs(wsUrl(gatewaySecret), cookie)).resolves.toEqual({ status: 101, first: 'connection_established' });
    const sse = await head(`${gatewaySecret.url}/api/v1/events`, cookie);
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    const read = await fetchJson('GET', `${registrySecret.url}/api/v1/services?limit=5`, undefined, { headers: cookie });
    expect(read.status, read.text).toBe(200);
  });

  it('cannot write, neither as a cookie nor sent as a bearer token; nor read or stream as a bearer', async () => {
    const { value } = await signIn();
    const body = { name: uniqueName('via-cookie'), host: '10.0.0.1', port: 80 };
    const url = `${registrySecret.url}/api/v1/services/register`;
    const asCookie = await fetchJson('POST', url, body, { headers: { cookie: `beacon_token=${value}` } });
    expect(asCookie.status).toBe(401);
    const asBearer = await fetchJson('POST', url, body, { headers: { authorization: `Bearer ${value}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.detail).toBe('Invalid bearer token');
    const readAsBearer = await fetchJson('GET', `${registrySecret.url}/api/v1/services`, undefined, {
      headers: { authorization: `Bearer ${value}` },
    });
    expect(readAsBearer.status).toBe(401);
    expect((await connectWs(`${wsUrl(gatewaySecret)}&token=${value}`, {})).status).toBe(401);
    // The real token still writes: the refusal is the cookie's, not the body's.
    const signed = await fetchJson('POST', url, body, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(signed.status).toBe(201);
  });

  it("an older Beacon's cookie holding the token itself is refused: signing in again replaces it", async () => {
    const legacy = { cookie: `beacon_token=${SECRET}` };
    expect((await connectWs(wsUrl(gatewaySecret), legacy)).status).toBe(401);
    expect((await fetchJson('GET', `${registrySecret.url}/api/v1/services`, undefined, { headers: legacy })).status).toBe(401);
  });

  it('is Secure when the browser came over https (X-Forwarded-Proto from the proxy), not over plain http', async () => {
    expect((await signIn({ 'x-forwarded-proto': 'https' })).setCookie).toMatch(/; Secure$/);
    expect((await signIn()).setCookie).not.toMatch(/Secure/);
    const ended = await fetchJson('DELETE', `${gatewaySecret.url}/api/v1/session`);
    expect(ended.status).toBe(204);
    expect(ended.headers.get('set-cookie')).toMatch(/^beacon_token=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
  });
});

// Browser-side snippets, as text: this package's TypeScript has no DOM types.
/** Records every CSP violation the page reports in `window.violations`. */
const RECORD_VIOLATIONS = `window.violations = [];
  document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.violatedDirective + ' ' + event.blockedURI));`;
/** Adds an inline script, as an XSS would; true when it ran. */
const INJECT_SCRIPT = `(() => {
  const script = document.createElement('script');
  script.textContent = 'window.injected = true;';
  document.body.append(script);
  return window.injected === true;
})()`;
const violations = (page: Playwright.Page): Promise<string[]> => page.evaluate<string[]>('window.violations');

describe('security headers', () => {
  const headersOf = (url: string): string =>
    execFileSync('curl', ['-sS', '-o', '/dev/null', '-D', '-', url], { encoding: 'utf8' }).toLowerCase();

  it('the dashboard sends a strict CSP, no framing, nosniff and no referrer; API answers the same basics', () => {
    const page = headersOf(`${gatewaySecret.url}/`);
    expect(page).toMatch(/^content-security-policy: default-src 'none'; script-src 'self'; style-src 'self';.*frame-ancestors 'none'/m);
    expect(page).not.toMatch(/unsafe-inline|unsafe-eval/);
    for (const headers of [page, headersOf(`${registryDefault.url}/api/v1/services`), headersOf(`${registryDefault.url}/health`)]) {
      expect(headers).toContain('x-frame-options: deny');
      expect(headers).toContain('x-content-type-options: nosniff');
      expect(headers).toContain('referrer-policy: no-referrer');
      expect(headers).toMatch(/^content-security-policy: .*frame-ancestors 'none'/m);
    }
  });

  it('the dashboard runs under its CSP without a violation, while injected inline script and framing are blocked', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.addInitScript(RECORD_VIOLATIONS);
      await page.goto(`${gatewaySecret.url}/?token=${SECRET}`);
      await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
      await page.locator('#stats[data-state]').waitFor({ timeout: 5000 });
      expect(await violations(page)).toEqual([]);
      expect(errors).toEqual([]);
      // The token left the address bar once the cookie held it.
      expect(page.url()).not.toContain('token=');

      // An injected inline script (what an XSS would add) runs on a page without a CSP, not on the dashboard.
      const other = await context.newPage();
      await other.goto(attackerOrigin);
      await expect(other.evaluate(INJECT_SCRIPT)).resolves.toBe(true);
      await expect(page.evaluate(INJECT_SCRIPT)).resolves.toBe(false);
      await waitFor('the violation reported', async () => (await violations(page)).some((entry) => entry.startsWith('script-src')));

      // Framing: the attacker's own page can be framed (the attack works on pages that allow it); the dashboard cannot.
      const framer = await context.newPage();
      await framer.goto(`${attackerOrigin}/frame?src=${encodeURIComponent(`${attackerOrigin}/`)}`);
      await expect(framer.frameLocator('#victim').locator('p').textContent()).resolves.toBe('hello');
      await framer.goto(`${attackerOrigin}/frame?src=${encodeURIComponent(`${gatewaySecret.url}/`)}`);
      await waitFor(
        'the framed dashboard to be blocked',
        () => framer.frames().some((frame) => frame.url().startsWith('chrome-error:')),
        5000,
      );
      expect(await framer.frameLocator('#victim').locator('#connection').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});

describe('auth is on when configured and says so; logs and /metrics hold no secrets', () => {
  it('an empty BEACON_AUTH_TOKEN falls through to SERVICE_DISCOVERY_SECRET, and the start-up line says what is guarded', async () => {
    const anonymous = await fetchJson('POST', `${registrySecret.url}/api/v1/services/register`, {
      name: uniqueName('anon'),
      host: '10.0.0.2',
      port: 80,
    });
    expect(anonymous.status).toBe(401);
    const signed = await fetchJson(
      'POST',
      `${registrySecret.url}/api/v1/services/register`,
      { name: uniqueName('signed'), host: '10.0.0.2', port: 80 },
      {
        headers: { authorization: `Bearer ${SECRET}` },
      },
    );
    expect(signed.status).toBe(201);
    expect(registrySecret.output()).toContain('auth on: a bearer token guards writes, reads, /metrics');
    expect(registryDefault.output()).toContain('auth off: BEACON_AUTH_TOKEN (or SERVICE_DISCOVERY_SECRET) is not set');
    expect(gatewaySecret.output()).toContain('auth on: a bearer token guards WebSocket, SSE; open: /metrics');
  });

  it('/metrics needs the token where reads do (its series name unhealthy services), and stays open where reads are', async () => {
    const open = await fetch(`${registryDefault.url}/metrics`);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('beacon_services');
    const refused = await fetchJson('GET', `${registrySecret.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toMatch(/bearer token/i);
    const allowed = await fetch(`${registrySecret.url}/metrics`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('beacon_services');
    expect((await fetchJson('GET', `${registrySecret.url}/health`)).status).toBe(200);
  });

  it('LOG_HTTP=true logs each request with its Authorization, cookies and ?token= redacted', async () => {
    const credentials = { authorization: `Bearer ${SECRET}`, cookie: `beacon_token=${SECRET}` };
    const read = await fetchJson('GET', `${registrySecret.url}/api/v1/services?limit=5`, undefined, { headers: credentials });
    expect(read.status).toBe(200);
    expect((await fetchJson('GET', `${registrySecret.url}/health?token=${SECRET}&x=1`)).status).toBe(200);
    const session = await fetchJson('POST', `${gatewaySecret.url}/api/v1/session`, { token: SECRET });
    expect(session.status).toBe(204);
    expect(session.headers.get('set-cookie')).toMatch(/^beacon_token=.*HttpOnly; SameSite=Strict/);
    await head(`${gatewaySecret.url}/api/v1/events?token=${SECRET}`, {});
    // The lines are there (the redaction is not an empty log)...
    await waitFor('the access log lines', () =>
      [
        registrySecret.output().includes('"url":"/health?token=[REDACTED]&x=1"'),
        registrySecret.output().includes('"url":"/api/v1/services?limit=5"'),
        gatewaySecret.output().includes('"url":"/api/v1/session"'),
        gatewaySecret.output().includes(`"url":"/api/v1/events?token=[REDACTED]"`),
      ].every(Boolean),
    );
    // ...and no secret is in them.
    expect(registrySecret.output()).not.toContain(SECRET);
    expect(gatewaySecret.output()).not.toContain(SECRET);
    expect(registrySecret.output()).toContain('"authorization":"[REDACTED]"');
  });
});
