import { waitFor } from '@beacon/testing';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const PACKAGE = resolve(__dirname, '..');

/**
 * Two registrations with deregisterOnExit in one process: SIGTERM must deregister both before
 * the process ends. A loopback registry answers: registrations at once, the heartbeats of `slow`
 * only after a while (a close() waits for the heartbeat in flight before its DELETE).
 */
describe('deregisterOnExit with two registrations', () => {
  it('SIGTERM deregisters both: the quick close() does not end the process while the other is still closing', async () => {
    const requests: string[] = [];
    let heldHeartbeats = 0;
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push(`${request.method} ${request.url}`);
        const now = Date.now();
        const json = (status: number, value?: unknown): void => {
          response.writeHead(status, value === undefined ? {} : { 'content-type': 'application/json' });
          response.end(value === undefined ? undefined : JSON.stringify(value));
        };
        if (request.method === 'POST') {
          const { name } = JSON.parse(body) as { name: string };
          json(201, { service_id: name, name, ttl: 10, status: 'active', expires_at: new Date(now + 10_000).toISOString() });
        } else if (request.method === 'PUT' && request.url === '/api/v1/services/slow/heartbeat') {
          heldHeartbeats += 1;
          setTimeout(
            () =>
              json(200, {
                service_id: 'slow',
                status: 'active',
                expires_at: new Date(now + 10_000).toISOString(),
                last_heartbeat: new Date(now).toISOString(),
              }),
            1_500,
          );
        } else if (request.method === 'DELETE') json(204);
        else json(404, { detail: 'unknown' });
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const program = `
      import { Beacon } from '@beacon/client';
      const beacon = new Beacon({ url: process.argv.at(-1) });
      await beacon.register({ name: 'quick', host: '127.0.0.1', port: 1, ttl: 10 }, { deregisterOnExit: true });
      await beacon.register({ name: 'slow', host: '127.0.0.1', port: 2, ttl: 10 }, { keepAlive: true, deregisterOnExit: true });
      setInterval(() => undefined, 1000);
      console.log('ready');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program, '--', url], { cwd: PACKAGE });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<string>((done) => child.on('exit', (code, signal) => done(String(signal ?? code))));
    try {
      await waitFor('the program ready', () => output.includes('ready'), 20_000);
      await waitFor("slow's heartbeat in flight", () => heldHeartbeats >= 1, 20_000);
      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      expect(requests.filter((r) => r.startsWith('DELETE')).sort()).toEqual([
        'DELETE /api/v1/services/quick',
        'DELETE /api/v1/services/slow',
      ]);
    } finally {
      child.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  }, 60_000);
});
