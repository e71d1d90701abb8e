import { startWebhookReceiver, uniqueName, waitFor, type WebhookReceiver } from '@beacon/testing';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookStack, type WebhookStack } from './webhooks-stack';

/**
 * nats-server killed with SIGKILL while webhook POSTs are in flight and jobs wait in
 * BEACON_WEBHOOKS, then started again on the same store: nothing is lost, the gateway's
 * consumers come back by themselves, and new events flow.
 */
let stack: WebhookStack;
let receiver: WebhookReceiver;

/** The pid of the nats-server this suite started, listening on `port`. */
function natsPid(port: number): number {
  const pids = execFileSync('lsof', ['-t', '-a', `-iTCP:${port}`, '-sTCP:LISTEN', '-c', 'nats-server'])
    .toString()
    .trim()
    .split('\n');
  const pid = Number(pids[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no nats-server listening on ${port}`);
  return pid;
}

beforeAll(async () => {
  stack = await startWebhookStack();
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.dispose();
  await stack?.dispose();
});

const eventIds = (path: string): Set<string> =>
  new Set(
    receiver.received
      .filter((request) => request.path === path && request.headers['x-beacon-event'] !== 'test')
      .map((request) => (JSON.parse(request.body) as { event_id: string }).event_id),
  );

describe('webhook delivery across a nats-server crash', () => {
  it('kill -9 nats-server mid-delivery, restart on the same store: every event delivered, new ones too', async () => {
    const type = uniqueName('natskill');
    const webhook = await stack.createWebhook({ url: `${receiver.url}/crash`, events: ['service_registered'], type });
    await stack.testWebhook(webhook.webhook_id);
    receiver.delay(1500);
    const before = 20;
    for (let index = 0; index < before; index += 1) await stack.register(type);
    await receiver.waitFor(1, 10_000, (request) => request.path === '/crash' && request.headers['x-beacon-event'] !== 'test');
    process.kill(natsPid(stack.nats.port), 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stack.nats.start();
    receiver.delay(0);
    const after = 5;
    for (let index = 0; index < after; index += 1) await stack.register(type);
    await waitFor(
      `${before + after} events delivered`,
      async () => (eventIds('/crash').size >= before + after ? true : undefined),
      45_000,
      200,
    );
    expect(eventIds('/crash').size).toBe(before + after);
    const ready = await fetch(`${stack.gateways[0]?.url ?? ''}/ready`);
    expect(ready.status).toBe(200);
  });
});
