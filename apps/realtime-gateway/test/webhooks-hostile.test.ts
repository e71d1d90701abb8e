import { startBlackHole, startWebhookReceiver, uniqueName, type BlackHoleReceiver, type WebhookReceiver } from '@beacon/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookStack, type WebhookStack } from './webhooks-stack';

/**
 * Hostile receivers on real processes. The gateway may POST to 4 receivers at once and
 * waits 30 s for an answer, so receivers that never answer would hold every slot for 30 s
 * at a time if a POST kept its slot however long it took.
 */
let stack: WebhookStack;
let healthy: WebhookReceiver;
let hole: BlackHoleReceiver;

beforeAll(async () => {
  stack = await startWebhookStack({ BEACON_WEBHOOK_CONCURRENCY: '4', BEACON_WEBHOOK_TIMEOUT: '30' });
  healthy = await startWebhookReceiver();
  hole = await startBlackHole();
});

afterAll(async () => {
  await hole?.dispose();
  await healthy?.dispose();
  await stack?.dispose();
});

describe('webhook delivery against hostile receivers', () => {
  it('webhooks whose receiver never answers (as many as there are slots) hold no slot for long: a healthy webhook gets every event meanwhile', async () => {
    const type = uniqueName('hole');
    const dead = 4;
    // Made first, so each event's jobs for the black hole are queued before the healthy one's.
    for (let index = 0; index < dead; index += 1) {
      await stack.createWebhook({ url: `${hole.url}/never-${index}`, events: ['service_registered'], type });
    }
    const good = await stack.createWebhook({ url: `${healthy.url}/good`, events: ['service_registered'], type });
    await stack.testWebhook(good.webhook_id);
    const events = 12;
    for (let index = 0; index < events; index += 1) await stack.register(type);
    const arrived = await healthy.waitFor(
      events,
      25_000,
      (request) => request.path === '/good' && request.headers['x-beacon-event'] !== 'test',
    );
    expect(arrived).toHaveLength(events);
    // All of that while the black hole's first POSTs are still unanswered (none timed out yet)...
    expect(hole.closedByClient).toBe(0);
    // ...and, once slow, each dead webhook has one POST out at a time (a second may have left before the first went slow).
    expect(hole.accepted).toBeGreaterThan(0);
    expect(hole.peak).toBeLessThanOrEqual(2 * dead);
  });

  it('a redirect is not followed (failed at once, the Location never contacted); an endless 2xx body is cut off and the delivery counts', async () => {
    const target = await startWebhookReceiver();
    let endlessBytes = 0;
    const servers: Server[] = [];
    const serve = async (handler: Parameters<typeof createServer>[1]): Promise<string> => {
      const server = createServer(handler);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    try {
      const redirecting = await serve((request, response) => {
        request.resume();
        response.writeHead(307, { location: `${target.url}/stolen` }).end();
      });
      const endless = await serve((request, response) => {
        request.resume();
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 120);
        const pump = (): void => {
          while (!response.destroyed && endlessBytes < 1024 ** 3) {
            endlessBytes += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
        };
        pump();
      });
      const type = uniqueName('odd');
      const moved = await stack.createWebhook({ url: `${redirecting}/moved`, events: ['service_registered'], type });
      const big = await stack.createWebhook({ url: `${endless}/big`, events: ['service_registered'], type });
      await stack.register(type);
      const [failed] = await stack.waitForDeliveries(moved.webhook_id, 1, (d) => d.status === 'failed');
      expect(failed).toMatchObject({ attempts: 1, status_code: 307 });
      expect(failed?.last_error).toMatch(/redirects are not followed/);
      const [delivered] = await stack.waitForDeliveries(big.webhook_id, 1, (d) => d.status === 'delivered');
      expect(delivered).toMatchObject({ attempts: 1, status_code: 200 });
      expect(target.received).toEqual([]);
      // The gateway stopped reading long before a gigabyte (a socket's buffers at most).
      expect(endlessBytes).toBeLessThan(64 * 1024 * 1024);
    } finally {
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
      await target.dispose();
    }
  });
});
