import { LIVE_EVENT_TYPES } from '@beacon/contracts';
import { Access } from '@beacon/platform';
import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { GATEWAY_ENV, type GatewayEnv } from '../config';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The built dashboard (apps/realtime-gateway/public, copied to dist/public). */
const PUBLIC_DIR = join(__dirname, '..', 'public');

function load(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
  }
  return assets;
}

/**
 * The dashboard's Content-Security-Policy: its own files only, no inline script or style,
 * nothing framing it, and `fetch` only to this origin and registry-api's (`apiBase`), so an
 * injected field could neither run nor send the catalog elsewhere. `'self'` covers the
 * page's own ws:/wss: (CSP Level 3); `data:` is the empty favicon.
 */
export function dashboardPolicy(apiBase: string): string {
  let api = '';
  try {
    if (apiBase) api = ` ${new URL(apiBase).origin}`;
  } catch {
    // Not a URL: the page's calls would fail anyway, and the policy stays same-origin.
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${api}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The page's list of event types, from the one in libs/contracts (the page asks for all of them). */
const EVENT_TYPES_MODULE = `export const EVENT_TYPES = ${JSON.stringify(LIVE_EVENT_TYPES)};\n`;

/**
 * The live dashboard at `/` and the read-only status page at `/status`: a few static
 * files held in memory, `/config.js` telling the pages where registry-api is and whether
 * it needs a token, and `/event-types.js`. Both pages get the same policy.
 */
@Controller()
@Access('public')
export class DashboardController {
  private readonly assets = load(PUBLIC_DIR);
  private readonly config: string;
  private readonly policy: string;

  constructor(@Inject(GATEWAY_ENV) env: GatewayEnv) {
    const settings = { apiBase: env.BEACON_PUBLIC_API_URL.replace(/\/+$/, ''), authRequired: env.BEACON_AUTH_TOKEN.length > 0 };
    this.config = `window.BEACON_CONFIG = ${JSON.stringify(settings)};\n`;
    this.policy = dashboardPolicy(settings.apiBase);
  }

  @Get()
  index(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  @Get('status')
  statusPage(@Res() reply: FastifyReply): void {
    this.send(reply, 'status.html');
  }

  @Get('config.js')
  configScript(@Res() reply: FastifyReply): void {
    void reply.header('content-type', TYPES['.js']).header('cache-control', 'no-cache').send(this.config);
  }

  @Get('event-types.js')
  eventTypes(@Res() reply: FastifyReply): void {
    void reply.header('content-type', TYPES['.js']).header('cache-control', 'no-cache').send(EVENT_TYPES_MODULE);
  }

  @Get(':file')
  file(@Param('file') file: string, @Res() reply: FastifyReply): void {
    this.send(reply, file);
  }

  private send(reply: FastifyReply, name: string): void {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException({ detail: `No such file: ${name}` });
    // The page's policy; the other files get the API's (nothing of theirs runs as a document).
    // On a 304 too: the browser takes a 304's headers over the cached ones, so a reload would
    // otherwise run the page under the API's `default-src 'none'` (no script, no style).
    if (asset.type.startsWith('text/html')) void reply.header('content-security-policy', this.policy);
    const ifNoneMatch = reply.request.headers['if-none-match'];
    if (ifNoneMatch === asset.etag) {
      void reply.code(304).send();
      return;
    }
    void reply.header('content-type', asset.type).header('etag', asset.etag).header('cache-control', 'no-cache').send(asset.body);
  }
}
