import { EVENTS_STREAM, Subjects } from '@beacon/contracts';
import { headers } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsFixture, type NatsFixture } from './nats.fixture';
import { StoredPublishError, readAck } from './stored-publisher';

let fixture: NatsFixture;

beforeAll(async () => {
  fixture = await startNatsFixture();
});

afterAll(async () => {
  await fixture?.close();
});

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('StoredPublisher acknowledgements', () => {
  it('reads whatever comes back on the reply subject without throwing, refusing what is not an acknowledgement', () => {
    expect(readAck({ data: encode('{"stream":"BEACON_EVENTS","seq":4}'), headers: undefined })).toEqual({ duplicate: false });
    expect(readAck({ data: encode('{"stream":"BEACON_EVENTS","seq":4,"duplicate":true}'), headers: undefined })).toEqual({
      duplicate: true,
    });
    for (const hostile of ['', 'null', '7', '"x"', '[]', '{"seq":"4"}', '{"error":{}}', '{"error":{"code":503}}', '\u0000{']) {
      const outcome = readAck({ data: encode(hostile), headers: undefined });
      expect(outcome, hostile).toBeInstanceOf(StoredPublishError);
    }
    const noResponders = headers(503, 'No Responders');
    expect(readAck({ data: new Uint8Array(), headers: noResponders })).toMatchObject({ reason: 'no_stream' });
  });

  it('stores a batch in order, once however often it is sent, and says no_stream when no stream takes it', async () => {
    const { nats } = await fixture.service({ eventStream: 'provision' });
    const batch = Array.from({ length: 50 }, (_, index) => ({
      subject: Subjects.serviceExpired,
      data: JSON.stringify({ n: index }),
      messageId: `test-${index}`,
    }));
    expect(await nats.publishStoredBatch(batch, 5000)).toEqual(batch.map(() => null));
    expect(await nats.publishStoredBatch(batch.slice(10, 20), 5000)).toEqual(batch.slice(10, 20).map(() => null));
    const state = await nats.eventStreamState();
    expect(state && state.lastSeq - state.firstSeq + 1).toBe(50);
    const raw = await fixture.raw();
    const consumer = await raw.jetstream().consumers.get(EVENTS_STREAM);
    const order: number[] = [];
    for await (const message of await consumer.fetch({ max_messages: 100, expires: 1000 })) order.push(message.json<{ n: number }>().n);
    expect(order).toEqual(batch.map((_, index) => index));

    await (await raw.jetstreamManager()).streams.delete(EVENTS_STREAM);
    const [lost] = await nats.publishStoredBatch(batch.slice(0, 1), 5000);
    expect(lost).toBeInstanceOf(StoredPublishError);
    expect((lost as StoredPublishError).reason).toBe('no_stream');
  }, 20_000);
});
