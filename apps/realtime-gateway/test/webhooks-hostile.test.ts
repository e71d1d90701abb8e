import { startBlackHole, startWebhookReceiver, uniqueName, type BlackHoleReceiver, type WebhookReceiver } from '@beacon/testing';
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
    // ...and each dead webhook had one POST out at a time (it is slow: its next jobs wait for that one).
    expect(hole.accepted).toBeGreaterThan(0);
    expect(hole.peak).toBeLessThanOrEqual(dead);
  });
});
