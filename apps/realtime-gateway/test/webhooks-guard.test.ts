import { startWebhookReceiver, uniqueName, type WebhookReceiver } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookStack, type WebhookStack } from './webhooks-stack';

/**
 * The SSRF guard at connect: the gateway denies loopback (PROBE_DENY_CIDRS=127.0.0.0/8), and
 * a webhook on `localhost` (a name, so registry-api's offline check lets it through) resolves
 * into it when the delivery connects: refused, nothing sent, recorded failed with the reason.
 */
let stack: WebhookStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startWebhookStack({ PROBE_DENY_CIDRS: '127.0.0.0/8,::1/128' });
  receiver = await startWebhookReceiver({ host: 'localhost' });
});

afterAll(async () => {
  await receiver?.dispose();
  await stack?.dispose();
});

describe('webhook delivery and the SSRF guard', () => {
  it('a webhook whose name resolves into a denied range is refused at connect and recorded failed with the reason', async () => {
    const type = uniqueName('ssrf');
    const webhook = await stack.createWebhook({ url: `${receiver.url}/inside`, events: ['service_registered'], type });
    const test = await stack.testWebhook(webhook.webhook_id);
    expect(test).toMatchObject({ status: 'failed', event_type: 'test' });
    await stack.register(type);
    const [failed] = await stack.waitForDeliveries(webhook.webhook_id, 1, (d) => d.status === 'failed');
    expect(failed?.attempts).toBe(1);
    expect(failed?.last_error).toMatch(/refused: localhost: .*(127\.0\.0\.1|::1).* denied range/);
    expect(receiver.received).toEqual([]);
  });
});
