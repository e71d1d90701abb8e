import { startWebhookReceiver, uniqueName, waitFor, type ReceivedWebhook, type WebhookReceiver } from '@beacon/testing';
import { EVENTS_STREAM } from '@beacon/contracts';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookStack, type WebhookStack } from './webhooks-stack';

/**
 * At-least-once across a crash, and replicas sharing the work: the gateway is killed with
 * SIGKILL while deliveries are retrying, and two gateways drain one queue.
 */
let stack: WebhookStack;
let receiver: WebhookReceiver;

const eventIds = (requests: ReceivedWebhook[], path: string): string[] =>
  requests
    .filter((request) => request.path === path && request.headers['x-beacon-event'] !== 'test')
    .map((request) => (JSON.parse(request.body) as { event_id: string }).event_id);

/** Each running gateway's count of delivered POSTs (its own /metrics). */
const deliveredPerGateway = (): Promise<number[]> =>
  Promise.all(
    stack.gateways.map(async (gateway) => {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      return Number(/beacon_webhook_deliveries_total\{outcome="delivered"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    }),
  );

beforeAll(async () => {
  stack = await startWebhookStack();
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.dispose();
  await stack?.dispose();
});

describe('webhook delivery across restarts and replicas', () => {
  it('kill -9 mid-retry, restart, receiver back: every event delivered at least once', async () => {
    const type = uniqueName('crash');
    const webhook = await stack.createWebhook({ url: `${receiver.url}/crash`, events: ['service_registered'], type });
    await stack.testWebhook(webhook.webhook_id);
    await receiver.close();
    const count = 20;
    for (let index = 0; index < count; index += 1) await stack.register(type);
    await stack.waitForDeliveries(webhook.webhook_id, count, (d) => d.status === 'retrying' && d.attempts >= 2, 30_000);

    const [gateway] = stack.gateways.splice(0, 1);
    expect(await gateway?.stop('SIGKILL')).toBe('SIGKILL');
    await stack.startGateway();
    await receiver.open();
    // Jobs the killed process held come back after the consumer's ack wait (30 s).
    const ids = await waitFor(
      `all ${count} events delivered`,
      () => {
        const seen = eventIds(receiver.received, '/crash');
        return new Set(seen).size >= count ? seen : undefined;
      },
      60_000,
      200,
    );
    const duplicates = ids.length - new Set(ids).size;
    console.log(`kill -9 mid-retry: ${count} events, ${ids.length} POSTs received, ${duplicates} duplicates`);
    expect(new Set(ids).size).toBe(count);
    await stack.waitForDeliveries(webhook.webhook_id, count, (d) => d.status === 'delivered', 30_000);
  }, 120_000);

  it('two gateway replicas share the queue: every event delivered, both replicas did some', async () => {
    if (stack.gateways.length < 2) await stack.startGateway();
    const type = uniqueName('pair');
    const webhook = await stack.createWebhook({ url: `${receiver.url}/pair`, events: ['service_registered'], type });
    await stack.testWebhook(webhook.webhook_id);
    const before = await deliveredPerGateway();
    const count = 60;
    await Promise.all(Array.from({ length: count }, () => stack.register(type)));
    const ids = await waitFor(
      `all ${count} events delivered`,
      () => {
        const seen = eventIds(receiver.received, '/pair');
        return new Set(seen).size >= count ? seen : undefined;
      },
      30_000,
      200,
    );
    expect(new Set(ids).size).toBe(count);
    const delivered = (await deliveredPerGateway()).map((total, index) => total - (before[index] ?? 0));
    console.log(`two replicas: ${count} events, ${ids.length} POSTs, delivered per replica ${delivered.join(' / ')}`);
    expect(delivered.filter((n) => n > 0)).toHaveLength(2);
  });

  it('a fan-out consumer deleted under the gateways is created again, and deliveries go on', async () => {
    const type = uniqueName('again');
    const webhook = await stack.createWebhook({ url: `${receiver.url}/again`, events: ['service_registered'], type });
    await stack.testWebhook(webhook.webhook_id);
    const admin = await connect({ servers: stack.nats.url, ...stack.nats.credentials('realtime-gateway') });
    try {
      const jsm = await admin.jetstreamManager();
      expect(await jsm.consumers.delete(EVENTS_STREAM, 'beacon-webhooks-fanout')).toBe(true);
      // Created again at the next pull (at new events: what happened while it was gone is not delivered).
      await waitFor(
        'the fan-out consumer back',
        () => jsm.consumers.info(EVENTS_STREAM, 'beacon-webhooks-fanout').catch(() => undefined),
        20_000,
        200,
      );
    } finally {
      await admin.close();
    }
    const service = await stack.register(type);
    const [request] = await receiver.waitFor(1, 20_000, (r) => r.path === '/again' && r.headers['x-beacon-event'] !== 'test');
    expect((JSON.parse(request?.body ?? '{}') as { data?: { service_id?: string } }).data?.service_id).toBe(service.service_id);
  });
});
