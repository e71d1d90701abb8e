import { Subjects } from '@beacon/contracts';
import { sleep, startWebhookReceiver, uniqueName, verifyBeaconSignature, waitFor, type WebhookReceiver } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookStack, type WebhookStack } from './webhooks-stack';

/**
 * Webhook delivery on real processes: a permissioned nats-server, registry-api (webhooks
 * API, delivery log) and realtime-gateway (the deliverer), with real HTTP receivers on
 * loopback. Each test's webhooks filter on a service type of their own.
 */
let stack: WebhookStack;
let receiver: WebhookReceiver;

const notTests = (request: { headers: Record<string, unknown> }): boolean => request.headers['x-beacon-event'] !== 'test';

beforeAll(async () => {
  stack = await startWebhookStack();
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.dispose();
  await stack?.dispose();
});

describe('webhook delivery', () => {
  it('a generic webhook with a secret gets service_registered, signed; the receiver verifies it and a tampered body fails', async () => {
    const type = uniqueName('signed');
    const secret = 'whsec-' + uniqueName('s');
    const webhook = await stack.createWebhook({ url: `${receiver.url}/signed`, events: ['service_registered'], type, secret });
    await stack.testWebhook(webhook.webhook_id);
    const service = await stack.register(type);
    const [request] = await receiver.waitFor(1, 20_000, (r) => r.path === '/signed' && notTests(r));
    if (!request) throw new Error('no request');
    const body = JSON.parse(request.body) as { v: number; type: string; webhook_id: string; data: { service_id: string } };
    expect(body).toMatchObject({ v: 1, type: 'service_registered', webhook_id: webhook.webhook_id });
    expect(body.data.service_id).toBe(service.service_id);
    expect(request.headers['x-beacon-event']).toBe('service_registered');
    expect(verifyBeaconSignature(secret, request.headers['x-beacon-signature'], request.body)).toBe(true);
    expect(verifyBeaconSignature(secret, request.headers['x-beacon-signature'], request.body.replace(service.service_id, 'forged'))).toBe(
      false,
    );
    const [delivery] = await stack.waitForDeliveries(webhook.webhook_id, 1, (d) => d.status === 'delivered');
    expect(delivery).toMatchObject({ event_type: 'service_registered', attempts: 1, status_code: 200 });
  });

  it('with the receiver down for a while, every delivery arrives once it is back, none failed, after several attempts', async () => {
    const down = await startWebhookReceiver();
    try {
      const type = uniqueName('down');
      const webhook = await stack.createWebhook({ url: `${down.url}/later`, events: ['service_registered'], type });
      await stack.testWebhook(webhook.webhook_id);
      await down.close();
      const services = await Promise.all([1, 2, 3, 4, 5].map(() => stack.register(type)));
      // Several tries each (1 s, then 2 s apart) while nothing listens.
      await stack.waitForDeliveries(webhook.webhook_id, services.length, (d) => d.status === 'retrying' && d.attempts >= 3, 30_000);
      await down.open();
      const delivered = await stack.waitForDeliveries(webhook.webhook_id, services.length, (d) => d.status === 'delivered', 30_000);
      expect(delivered.every((d) => d.attempts > 1)).toBe(true);
      expect((await stack.deliveries(webhook.webhook_id)).filter((d) => d.status === 'failed')).toEqual([]);
      const ids = new Set(
        down.received.filter(notTests).map((r) => (JSON.parse(r.body) as { data: { service_id: string } }).data.service_id),
      );
      expect([...ids].sort()).toEqual(services.map((s) => s.service_id).sort());
    } finally {
      await down.dispose();
    }
  });

  it('slack, discord, ntfy and gotify bodies match their documented formats', async () => {
    const type = uniqueName('fmt');
    const make = (format: string, path: string): Promise<{ webhook_id: string }> =>
      stack.createWebhook({ url: `${receiver.url}${path}`, events: ['*'], type, format });
    await make('slack', '/slack');
    await make('discord', '/discord');
    await make('ntfy', '/ntfy/beacon-alerts');
    const gotify = await make('gotify', '/gotify/message?token=AppToken123');
    await stack.testWebhook(gotify.webhook_id);
    await stack.register(type);
    const seen = (path: string) => receiver.waitFor(1, 20_000, (r) => r.path === path && notTests(r)).then((requests) => requests[0]!);

    const slack = await seen('/slack');
    expect(slack.headers['content-type']).toMatch(/^application\/json/);
    const slackBody = JSON.parse(slack.body) as { text?: unknown };
    expect(typeof slackBody.text === 'string' && slackBody.text.length > 0).toBe(true);

    const discord = await seen('/discord');
    const discordBody = JSON.parse(discord.body) as {
      content?: string;
      embeds?: { title?: string; description?: string; fields?: { name: string; value: string }[]; timestamp?: string }[];
    };
    expect(discordBody.content === undefined || discordBody.content.length <= 2000).toBe(true);
    expect(discordBody.embeds?.length).toBeGreaterThan(0);
    let total = 0;
    for (const embed of discordBody.embeds ?? []) {
      expect((embed.title ?? '').length).toBeLessThanOrEqual(256);
      expect((embed.description ?? '').length).toBeLessThanOrEqual(4096);
      expect((embed.fields ?? []).length).toBeLessThanOrEqual(25);
      for (const field of embed.fields ?? []) expect(field.value.length).toBeLessThanOrEqual(1024);
      expect(Number.isNaN(Date.parse(embed.timestamp ?? ''))).toBe(false);
      total += (embed.title ?? '').length + (embed.description ?? '').length;
      total += (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0);
    }
    expect(total).toBeLessThanOrEqual(6000);

    const ntfy = await seen('/ntfy/beacon-alerts');
    expect(ntfy.headers['content-type']).toMatch(/^text\/plain/);
    expect(ntfy.body.length).toBeGreaterThan(0);
    expect(ntfy.headers.title).toMatch(/registered/);
    expect(['1', '2', '3', '4', '5', 'min', 'low', 'default', 'high', 'max', 'urgent']).toContain(ntfy.headers.priority);
    expect(ntfy.headers.tags).toMatch(/^[a-z0-9_+-]+(,[a-z0-9_+-]+)*$/);

    const gotifyRequest = await seen('/gotify/message');
    expect(new URL(gotifyRequest.url, 'http://x').searchParams.get('token')).toBe('AppToken123');
    const gotifyBody = JSON.parse(gotifyRequest.body) as { title?: unknown; message?: unknown; priority?: unknown };
    expect(typeof gotifyBody.message).toBe('string');
    expect(Number.isInteger(gotifyBody.priority)).toBe(true);
  });

  it('a receiver answering 4xx fails the delivery at once, saying the receiver refused it', async () => {
    const refusing = await startWebhookReceiver();
    try {
      refusing.answer((request) => (notTests(request) ? 410 : 200));
      const type = uniqueName('gone');
      const webhook = await stack.createWebhook({ url: `${refusing.url}/gone`, events: ['service_registered'], type });
      await stack.testWebhook(webhook.webhook_id);
      await stack.register(type);
      const [failed] = await stack.waitForDeliveries(webhook.webhook_id, 1, (d) => d.status === 'failed');
      expect(failed).toMatchObject({ attempts: 1, status_code: 410 });
      expect(failed?.last_error).toMatch(/refused/);
      await sleep(2500);
      expect(refusing.received.filter(notTests)).toHaveLength(1);
    } finally {
      await refusing.dispose();
    }
  });

  it('a malformed message on the jobs subject or on webhooks.changed is skipped, and the next good one is still delivered', async () => {
    const type = uniqueName('bad');
    const webhook = await stack.createWebhook({ url: `${receiver.url}/after-bad`, events: ['service_registered'], type });
    await stack.testWebhook(webhook.webhook_id);
    // Only the deliverer's identity may publish jobs, and registry-api's change notices.
    const asGateway: NatsConnection = await connect({ servers: stack.nats.url, ...stack.nats.credentials('realtime-gateway') });
    const asRegistry: NatsConnection = await connect({ servers: stack.nats.url, ...stack.nats.credentials('registry-api') });
    try {
      const js = asGateway.jetstream();
      await js.publish(Subjects.webhookJobs, new TextEncoder().encode('{"v":1,"webhook_id":42}'));
      await js.publish(Subjects.webhookJobs, new TextEncoder().encode('not json'));
      asRegistry.publish(Subjects.webhooksChanged, new TextEncoder().encode('[]'));
      await asRegistry.flush();
      await stack.register(type);
      await receiver.waitFor(1, 20_000, (r) => r.path === '/after-bad' && notTests(r));
      const gateway = stack.gateways[0]!;
      const metrics = await waitFor('the dropped messages counted', async () => {
        const text = await (await fetch(`${gateway.url}/metrics`)).text();
        return /beacon_nats_messages_dropped_total\{[^}]*subject="beacon\.webhooks\.jobs"[^}]*\} [1-9]/.test(text) ? text : undefined;
      });
      expect(metrics).toMatch(/beacon_nats_messages_dropped_total\{[^}]*subject="beacon\.webhooks\.changed"[^}]*\} [1-9]/);
    } finally {
      await asGateway.close();
      await asRegistry.close();
    }
  });
});
