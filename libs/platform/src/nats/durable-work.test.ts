import { Subjects } from '@beacon/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsFixture, type NatsFixture } from './nats.fixture';

let fixture: NatsFixture;

beforeAll(async () => {
  fixture = await startNatsFixture();
});

afterAll(async () => {
  await fixture?.close();
});

const QUEUE = {
  name: 'TEST_WORK',
  subjects: [Subjects.webhookJobs],
  maxBytes: 1024 * 1024,
  maxAgeMs: 60_000,
  duplicateWindowMs: 60_000,
  replicas: 1,
};
const job = (n: number): string =>
  JSON.stringify({
    v: 1,
    webhook_id: `w${n}`,
    event_id: String(n),
    event_type: 'service_registered',
    event_at: new Date().toISOString(),
    message: {},
  });

describe('DurableWork on a real nats-server', () => {
  it('stores a resent message once, hands each message to one of two replicas, and skips a malformed one counted', async () => {
    const [a, b] = [await fixture.service(), await fixture.service()];
    const work = a.nats.durableWork();
    await work.provisionWorkQueue(QUEUE);
    await b.nats.durableWork().provisionWorkQueue(QUEUE); // the second replica only brings it up to date
    const spec = { stream: QUEUE.name, name: 'test-consumer', startAt: 'all' as const, ackWaitMs: 30_000, maxAckPending: 100 };
    const [consumerA, consumerB] = [await work.durable(spec), await b.nats.durableWork().durable(spec)];

    const messages = [1, 2, 3, 4].map((n) => ({ subject: Subjects.webhookJobs, data: job(n), messageId: `id-${n}` }));
    expect(await work.publishStored(QUEUE.name, messages, 5000)).toEqual([null, null, null, null]);
    // Resent (a fan-out run again after a crash): stored once.
    expect(await work.publishStored(QUEUE.name, messages.slice(0, 2), 5000)).toEqual([null, null]);
    expect(await work.publishStored(QUEUE.name, [{ subject: Subjects.webhookJobs, data: '{"v":1}', messageId: 'bad' }], 5000)).toEqual([
      null,
    ]);
    expect(await work.depth(QUEUE.name, spec.name)).toEqual({ pending: 5, inFlight: 0 });

    const seen: (string | null)[] = [];
    for (const [service, consumer] of [
      [a, consumerA],
      [b, consumerB],
    ] as const) {
      for await (const item of service.nats.durableWork().pullMessages(consumer, Subjects.webhookJobs, 3, 1000)) {
        seen.push(item.document?.event_id ?? null);
        item.message.ack();
      }
    }
    expect(seen.sort()).toEqual(['1', '2', '3', '4', null]);
    expect(
      (await a.count('beacon_nats_messages_dropped_total', { subject: Subjects.webhookJobs, reason: 'invalid' })) +
        (await b.count('beacon_nats_messages_dropped_total', { subject: Subjects.webhookJobs, reason: 'invalid' })),
    ).toBe(1);
    // Acknowledged work is gone from the queue.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await work.depth(QUEUE.name, spec.name)).toEqual({ pending: 0, inFlight: 0 });
  });

  it('a message handed back with a delay comes again after it, counted as a redelivery', async () => {
    const { nats } = await fixture.service();
    const work = nats.durableWork();
    await work.provisionWorkQueue({ ...QUEUE, name: 'TEST_RETRY', subjects: ['beacon.webhooks.jobs.retry'] });
    const consumer = await work.durable({ stream: 'TEST_RETRY', name: 'retry', startAt: 'all', ackWaitMs: 30_000, maxAckPending: 10 });
    await work.publishStored('TEST_RETRY', [{ subject: 'beacon.webhooks.jobs.retry', data: job(9), messageId: 'r' }], 5000);
    const first = [];
    for await (const item of work.pullMessages(consumer, Subjects.webhookJobs, 1, 1000)) first.push(item);
    expect(first).toHaveLength(1);
    const naked = Date.now();
    first[0]!.message.nak(1500);
    const again = [];
    while (again.length === 0 && Date.now() - naked < 5000) {
      for await (const item of work.pullMessages(consumer, Subjects.webhookJobs, 1, 1000)) again.push(item);
    }
    expect(again).toHaveLength(1);
    expect(Date.now() - naked).toBeGreaterThanOrEqual(1400);
    expect(again[0]!.message.info.redeliveryCount).toBe(2);
    again[0]!.message.ack();
  });
});
