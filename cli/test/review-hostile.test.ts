/**
 * The CLI against servers that are not the Beacon it expects (loopback HTTP and WebSocket
 * servers written here): wrong shapes, terminal escapes in answers, garbage frames, a gateway
 * that refuses the token or drops every connection at once. Each ends in a clear sentence and
 * an exit code, never a stack trace, and nothing from the server reaches the terminal raw.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { freePort, waitFor } from '@beacon/testing';
import { BIN, cli } from './helpers';

const servers: Server[] = [];

/** A loopback HTTP server answering every request with `answer`. */
async function serve(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(answer);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const json =
  (status: number, body: unknown) =>
  (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

/** A gateway: every upgrade is counted and handed to `onSocket`. */
async function gateway(onSocket: (socket: WebSocket) => void): Promise<{ url: string; connections: () => number }> {
  const wss = new WebSocketServer({ noServer: true });
  let connections = 0;
  const { url, server } = await serve(json(404, {}));
  server.on('upgrade', (request, socket, head) => {
    connections += 1;
    wss.handleUpgrade(request, socket, head, onSocket);
  });
  server.on('close', () => wss.close());
  return { url, connections: () => connections };
}

/** `beacon watch` in the background until `until` holds for its stderr+stdout, then stopped. */
async function watchUntil(args: string[], until: (output: string) => boolean): Promise<{ output: string; code: number | null }> {
  const child = spawn(process.execPath, [BIN, 'watch', ...args], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor('the watch output', () => until(output) || child.exitCode !== null, 30_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGINT');
  }
  return { output, code: await exit };
}

// eslint-disable-next-line no-control-regex -- looking for raw control characters
const RAW_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('beacon against hostile HTTP answers', () => {
  it('a 200 of another shape is a clear error (exit 1), not a TypeError from inside', async () => {
    for (const body of [{ foo: 1 }, null]) {
      const { url } = await serve(json(200, body));
      for (const args of [['ls'], ['get', 'x'], ['stats'], ['incidents', 'ls'], ['webhooks', 'ls'], ['status']]) {
        const result = await cli(['--url', url, ...args]);
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(1);
        expect(result.stderr).toContain(`beacon: ${url} answered with JSON that is not shaped like Beacon's answer`);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });

  it('escape sequences, CR and bidi controls in an answer are printed escaped in tables, records and errors; --json stays exact', async () => {
    const evil = '\u001b]0;pwned\u0007\u001b[2J\r\u202eevil';
    const service = {
      service_id: `id-${evil}`,
      name: `name-${evil}`,
      host: 'h',
      port: 1,
      status: 'active',
      health: 'healthy',
      tags: [`tag-${evil}`],
      metadata: { banner: evil },
      ttl: 30,
    };
    // The handler reads it once the server listens.
    let url = '';
    ({ url } = await serve((request, response) => {
      const path = new URL(request.url ?? '/', url);
      if (path.pathname === '/api/v1/services') {
        const name = path.searchParams.get('name');
        const services = name === null || name === service.name ? [service] : [];
        return json(200, { services, total: services.length })(request, response);
      }
      if (request.url === '/api/v1/services/one') return json(200, service)(request, response);
      if (request.url?.startsWith('/api/v1/incidents'))
        return json(200, {
          incidents: [{ incident_id: 'i1', service_name: 'n', kind: 'down', status: 'open', started_at: null, cause: `cause ${evil}` }],
          total: 1,
        })(request, response);
      json(404, { detail: `no such thing ${evil}` })(request, response);
    }));
    for (const args of [['ls'], ['get', 'one'], ['incidents', 'ls'], ['ls', '-q']]) {
      const result = await cli(['--url', url, ...args]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(RAW_CONTROLS);
      expect(result.stdout).toContain('\\x1b');
    }
    const shown = await cli(['--url', url, 'get', 'one']);
    expect(shown.stdout).toContain('banner=\\x1b]0;pwned\\x07\\x1b[2J \\u202eevil');
    const missing = await cli(['--url', url, 'get', 'zzz']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).not.toMatch(RAW_CONTROLS);
    expect(missing.stderr).toContain('no such thing \\x1b]0;pwned');
    const exact = await cli(['--url', url, 'get', 'one', '--json']);
    expect(JSON.parse(exact.stdout)).toEqual(service);
  });
});

describe('beacon watch against a hostile gateway', () => {
  it('skips frames that are not live messages and prints the next event escaped', async () => {
    const { url } = await gateway((socket) => {
      socket.send(JSON.stringify({ type: 'connection_established', seq: 1 }));
      for (const frame of ['42', 'null', '[1]', '{"type":5}', '{"type":"x","timestamp":5}', 'not json']) socket.send(frame);
      socket.send(JSON.stringify({ type: 'service_registered', seq: 2, data: { name: 'ok\u001b]0;pwned\u0007', service_id: 's1' } }));
    });
    const { output, code } = await watchUntil(['--gateway-url', url], (text) => text.includes('service_registered'));
    expect(output).not.toMatch(/TypeError|\n\s+at /);
    expect(output).toMatch(/service_registered\s+ok\\x1b\]0;pwned\\x07\s+s1/);
    expect(output).not.toMatch(RAW_CONTROLS);
    expect(code).toBe(0);
  });

  it('--json prints each event as the gateway sent it, every field kept', async () => {
    const event = {
      type: 'service_registered',
      v: 1,
      seq: 2,
      timestamp: '2026-01-01T00:00:00.000Z',
      data: { name: 'a' },
      extra: [1, null],
    };
    const { url } = await gateway((socket) => {
      socket.send(JSON.stringify({ type: 'connection_established', seq: 1 }));
      socket.send('null');
      socket.send(JSON.stringify(event));
    });
    const { output } = await watchUntil(['--gateway-url', url, '--json'], (text) => text.includes('extra'));
    const line = output.split('\n').find((text) => text.includes('service_registered')) ?? '';
    expect(JSON.parse(line)).toEqual(event);
  });

  it('a refused token (401) exits 4 at once instead of reconnecting', async () => {
    const { url, server } = await serve(json(404, {}));
    let upgrades = 0;
    server.on('upgrade', (_request, socket) => {
      upgrades += 1;
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
    });
    const result = await cli(['watch', '--gateway-url', url]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('the gateway refused the token (HTTP 401)');
    expect(upgrades).toBe(1);
  });

  it('a URL with no live feed (404, e.g. registry-api itself) exits 1 saying where to point, instead of retrying forever', async () => {
    const { url, server } = await serve(json(404, {}));
    let upgrades = 0;
    server.on('upgrade', (_request, socket) => {
      upgrades += 1;
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    });
    const result = await cli(['watch', '--gateway-url', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${url} has no live feed at /api/v1/ws (HTTP 404): point --gateway-url or BEACON_GATEWAY_URL`);
    expect(upgrades).toBe(1);
  });

  it('a refused watch (400 with a detail, as the gateway answers --event bogus) exits 1 with the detail instead of retrying forever', async () => {
    const { url, server } = await serve(json(404, {}));
    let upgrades = 0;
    server.on('upgrade', (_request, socket) => {
      upgrades += 1;
      const body = JSON.stringify({ detail: 'events: unknown event type "bogus"' });
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    const result = await cli(['watch', '--gateway-url', url, '--event', 'bogus']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the gateway refused the watch (HTTP 400): events: unknown event type "bogus"');
    expect(upgrades).toBe(1);
  });

  it('a gateway that cannot be reached is said, with the wait before each try, instead of a blank screen', async () => {
    const port = await freePort();
    const { output } = await watchUntil(['--gateway-url', `http://127.0.0.1:${port}`], (text) => text.includes('in 0.5s'));
    expect(output).toContain(
      `beacon: cannot reach the gateway at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); trying again in 0.25s`,
    );
    expect(output).toContain('trying again in 0.5s');
  });

  it('a gateway that accepts and drops every connection at once gets ever longer waits, not a fixed quick loop', async () => {
    const { url, connections } = await gateway((socket) => socket.close());
    const { output } = await watchUntil(['--gateway-url', url], (text) => text.includes('in 2s'));
    const waits = [...output.matchAll(/connection lost; resuming in ([\d.]+)s/g)].map((match) => Number(match[1]));
    expect(waits.slice(0, 4)).toEqual([0.25, 0.5, 1, 2]);
    // One connection per announced wait (and perhaps the one after the last, before Ctrl-C).
    expect(connections()).toBeGreaterThanOrEqual(waits.length);
    expect(connections()).toBeLessThanOrEqual(waits.length + 1);
  });

  it('a feed faster than its reader (stdout a pipe no one reads) waits in TCP, not in the CLI: the gateway cannot hand over every event', async () => {
    const total = 100_000;
    const padding = 'x'.repeat(1_000);
    let sent = 0;
    const { url } = await gateway((socket) => {
      socket.send(JSON.stringify({ type: 'connection_established', seq: 0 }));
      const pump = (): void => {
        // Send while the socket takes it: what the CLI does not read piles up here, then stops.
        while (sent < total && socket.readyState === socket.OPEN && socket.bufferedAmount < 1024 * 1024) {
          sent += 1;
          socket.send(JSON.stringify({ type: 'service_heartbeat', seq: sent, data: { name: 'flood', padding } }));
        }
        if (sent < total && socket.readyState === socket.OPEN) setTimeout(pump, 20);
      };
      pump();
    });
    const child = spawn(process.execPath, [BIN, 'watch', '--json', '--gateway-url', url], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      // Nothing reads child.stdout: its pipe fills at a few dozen KB.
      let last = -1;
      await waitFor(
        'the gateway to stop getting rid of events, or to send them all',
        () => {
          const settled = sent === last || sent === total;
          last = sent;
          return settled;
        },
        60_000,
        2_000,
      );
      expect(sent).toBeLessThan(total / 2);
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      // Well under the 100 MB of events it would have buffered.
      expect(Number(rss)).toBeLessThan(150 * 1024);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
