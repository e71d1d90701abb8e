import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { writeLocalNginxConfig } from '../../scripts/nginx-config.mjs';
import { findBinary, freePort, waitFor, wsText } from '@beacon/testing';

/**
 * deploy/nginx/beacon.conf on its own, in a real nginx, in front of two small upstreams
 * that report what reached them: which path goes where, the forwarded headers, WebSocket
 * upgrades, unbuffered SSE, the body limit and the errors' shape.
 */

const nginxBinary = findBinary('nginx');

interface Seen {
  upstream: 'registry' | 'gateway';
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** An upstream that answers every request with what it received; /api/v1/events streams. */
function upstream(name: Seen['upstream'], seen: Seen[]): Server {
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    seen.push({ upstream: name, method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    if (request.url?.split('?')[0] === '/api/v1/events') {
      // One event now, then nothing for a while: it must reach the client before the end.
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write('event: hello\ndata: {"from":"gateway"}\n\n');
      setTimeout(() => response.end(), 10_000).unref();
      return;
    }
    if (request.url === '/api/v1/large') {
      // Larger than nginx's proxy buffers: the rest goes through its temp files.
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.alloc(3 * 1024 * 1024, 7));
      return;
    }
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ upstream: name, url: request.url }));
    });
  });
}

const listen = (server: Server, port: number): Promise<void> => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve()));

describe.skipIf(!nginxBinary)(
  `deploy/nginx/beacon.conf in nginx${nginxBinary ? '' : ' — skipped: nginx is not installed (apt-get install nginx)'}`,
  () => {
    const seen: Seen[] = [];
    let dir: string;
    let nginx: ChildProcess;
    let nginxLog = '';
    let accessLog = '';
    let syslog: Socket;
    let registry: Server;
    let gateway: Server;
    let sockets: WebSocketServer;
    let registryPort: number;
    let gatewayPort: number;
    let base: string;
    let port: number;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'beacon-nginx-'));
      [port, registryPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
      registry = upstream('registry', seen);
      gateway = upstream('gateway', seen);
      sockets = new WebSocketServer({ server: gateway, path: '/api/v1/ws' });
      sockets.on('connection', (socket, request) => {
        seen.push({ upstream: 'gateway', method: 'UPGRADE', url: request.url ?? '', headers: request.headers });
        socket.on('message', (data) => socket.send(`echo:${wsText(data)}`));
      });
      await Promise.all([listen(registry, registryPort), listen(gateway, gatewayPort)]);

      // The launcher's own wrapper (scripts/nginx-config.mjs) around the file under test.
      // The access log as the launcher receives it with LOG_HTTP=true: syslog datagrams on loopback.
      syslog = createSocket('udp4');
      syslog.on('message', (message) => (accessLog += `${message.toString('utf8')}\n`));
      await new Promise<void>((resolve) => syslog.bind(0, '127.0.0.1', () => resolve()));
      const config = writeLocalNginxConfig({ dir, port, registryPort, gatewayPort, accessLogPort: syslog.address().port });
      nginx = spawn(nginxBinary as string, ['-p', dir, '-c', config, '-e', 'stderr'], { stdio: ['ignore', 'pipe', 'pipe'] });
      nginx.stderr?.on('data', (chunk: Buffer) => (nginxLog += chunk.toString()));
      base = `http://127.0.0.1:${port}`;
      await waitFor(`nginx on ${port} (${nginxLog})`, async () => (await fetch(`${base}/api/v1/services`)).ok, 10_000, 100);
    });

    afterAll(async () => {
      if (nginx && nginx.exitCode === null) {
        const exited = new Promise((resolve) => nginx.once('exit', resolve));
        nginx.kill('SIGTERM');
        await exited;
      }
      sockets?.close();
      syslog?.close();
      registry?.close();
      gateway?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** The newest request the upstreams saw that matches. */
    const last = (match: (entry: Seen) => boolean): Seen | undefined => [...seen].reverse().find(match);

    const routedTo = async (path: string): Promise<string> => {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      return ((await response.json()) as { upstream: string }).upstream;
    };

    it("routes the API (seed 004's /v1/discovery too) and health to registry-api, the dashboard to realtime-gateway", async () => {
      expect(await routedTo('/api/v1/services?type=iot')).toBe('registry');
      expect(await routedTo('/api/docs-json')).toBe('registry');
      expect(await routedTo('/v1/discovery/services/my-service/healthy')).toBe('registry');
      expect(await routedTo('/health')).toBe('registry');
      expect(await routedTo('/ready')).toBe('registry');
      expect(await routedTo('/')).toBe('gateway');
      expect(await routedTo('/app.js')).toBe('gateway');
      // Exact paths only: a service path that merely starts like one stays with the registry.
      expect(await routedTo('/api/v1/events-archive')).toBe('registry');
      expect(seen.find((entry) => entry.url === '/api/v1/services?type=iot')?.upstream).toBe('registry');
    });

    it('writes its access log with every ?token= redacted, in the request line and the Referer, and passes the token on intact', async () => {
      const secret = 'ZX9-secret-in-query';
      const response = await fetch(`${base}/api/v1/services?type=iot&token=${secret}&limit=2`, {
        headers: { referer: `http://beacon.lan:8097/?token=${secret}-ref#top` },
      });
      expect(response.status).toBe(200);
      expect(last((entry) => entry.url.includes('limit=2'))?.url).toBe(`/api/v1/services?type=iot&token=${secret}&limit=2`);
      const line = await waitFor('the access log line', () => accessLog.split('\n').find((entry) => entry.includes('type=iot&token=')));
      expect(line).toContain('"GET /api/v1/services?type=iot&token=REDACTED&limit=2 HTTP/1.1" 200');
      expect(line).toContain('"http://beacon.lan:8097/?token=REDACTED#top"');
      expect(accessLog).not.toContain(secret);
    });

    it('passes X-Forwarded-For, -Proto, -Host, -Port and X-Real-IP, and the original Host', async () => {
      await fetch(`${base}/api/v1/services/types`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      const request = last((entry) => entry.url === '/api/v1/services/types');
      expect(request?.headers).toMatchObject({
        host: `127.0.0.1:${port}`,
        'x-forwarded-for': '203.0.113.9, 127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': `127.0.0.1:${port}`,
        'x-forwarded-port': String(port),
        'x-real-ip': '127.0.0.1',
      });
      // Plain requests are not sent as upgrades (keep-alive to the upstream instead).
      expect(request?.headers.upgrade).toBeUndefined();
      expect(request?.headers.connection ?? '').not.toMatch(/upgrade/i);
    });

    it('upgrades /api/v1/ws to a WebSocket on realtime-gateway, query intact', async () => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws?events=service_registered&token=t`);
      const reply = await new Promise<string>((resolve, reject) => {
        socket.once('open', () => socket.send('ping'));
        socket.once('message', (data) => resolve(wsText(data)));
        socket.once('error', reject);
      });
      socket.close();
      expect(reply).toBe('echo:ping');
      const upgrade = last((entry) => entry.method === 'UPGRADE');
      expect(upgrade?.url).toBe('/api/v1/ws?events=service_registered&token=t');
      expect(upgrade?.headers['x-forwarded-for']).toBe('127.0.0.1');
    });

    it('streams /api/v1/events from realtime-gateway as it is written, not when the response ends', async () => {
      const aborter = new AbortController();
      const response = await fetch(`${base}/api/v1/events?type=iot`, { signal: aborter.signal });
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      // The upstream keeps the response open for 10 s after its first event: a proxy that held
      // the stream back (until a buffer filled or the response ended) would show nothing here.
      const first = await Promise.race([
        reader.read().then(({ value }) => new TextDecoder().decode(value)),
        new Promise<string>((resolve) => setTimeout(() => resolve('nothing yet'), 5000)),
      ]);
      aborter.abort();
      expect(first).toContain('event: hello');
      expect(last((entry) => entry.url.startsWith('/api/v1/events'))?.upstream).toBe('gateway');
    });

    it('refuses a body over 1 MiB with a JSON 413 before it reaches registry-api', async () => {
      const before = seen.length;
      const response = await fetch(`${base}/api/v1/services/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'x'.repeat(1024 * 1024 + 1),
      });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ detail: 'Request body too large: at most 1 MiB' });
      expect(seen.slice(before).some((entry) => entry.url === '/api/v1/services/register')).toBe(false);
      const fits = await fetch(`${base}/api/v1/services/register`, { method: 'POST', body: 'x'.repeat(1024 * 1024 - 100) });
      expect(fits.status).toBe(200);
    });

    it('passes a response larger than its buffers intact', async () => {
      const body = Buffer.from(await (await fetch(`${base}/api/v1/large`)).arrayBuffer());
      expect(body.length).toBe(3 * 1024 * 1024);
      expect(body.every((byte) => byte === 7)).toBe(true);
    });

    it('answers /metrics itself (404) and a missing upstream with a JSON 503 and Retry-After', async () => {
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(404);
      await new Promise<void>((resolve) => registry.close(() => resolve()));
      registry.closeAllConnections();
      const response = await fetch(`${base}/api/v1/services`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(((await response.json()) as { detail: string }).detail).toMatch(/not reachable behind the gateway/);
    });
  },
);
