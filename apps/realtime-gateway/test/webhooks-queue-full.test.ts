import { startWebhookReceiver, uniqueName, waitFor, type WebhookReceiver } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookStack, type WebhookStack } from './webhooks-stack';

/**
 * The BEACON_WEBHOOKS queue is bounded (here 1 MiB, its smallest): with the receiver down,
 * more jobs than fit are produced; the queue fills, the events that do not fit wait in
 * BEACON_EVENTS, and once the receiver is back every delivery arrives.
 */
let stack: WebhookStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startWebhookStack({ BEACON_WEBHOOK_QUEUE_MAX_BYTES: String(1024 * 1024) });
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.dispose();
  await stack?.dispose();
});

describe('a full webhook queue', () => {
  it('holds back the events that do not fit, and delivers everything once the receiver is back', async () => {
    const type = uniqueName('full');
    const hooks = [];
    for (let n = 0; n < 20; n += 1)
      hooks.push(await stack.createWebhook({ url: `${receiver.url}/full`, events: ['service_registered'], type }));
    await stack.testWebhook(hooks.at(-1)!.webhook_id);
    await receiver.close();
    // 20 webhooks × 60 events of ~1.5 KB each: about 1.8 MB of jobs for a 1 MiB queue.
    const services = [];
    for (let n = 0; n < 60; n += 1) services.push(await stack.register(type, { metadata: { padding: 'x'.repeat(400) } }));
    const gateway = stack.gateways[0]!;
    const depth = await waitFor(
      'the queue full',
      async () => {
        const text = await (await fetch(`${gateway.url}/metrics`)).text();
        const value = Number(/^beacon_webhook_queue_depth\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
        return value >= 300 ? value : undefined;
      },
      30_000,
      500,
    );
    await receiver.open();
    const expected = hooks.length * services.length;
    const arrived = await waitFor(
      `${expected} deliveries`,
      () => {
        const keys = new Set(
          receiver.received
            .filter((r) => r.headers['x-beacon-event'] === 'service_registered')
            .map((r) => String(r.headers['x-beacon-delivery'])),
        );
        return keys.size >= expected ? keys.size : undefined;
      },
      90_000,
      500,
    );
    console.log(`full queue: depth reached ${depth}; ${arrived}/${expected} deliveries after the receiver came back`);
    expect(arrived).toBe(expected);
    expect(stack.gateways[0]!.output()).toMatch(/could not queue every webhook job/);
  }, 150_000);
});
