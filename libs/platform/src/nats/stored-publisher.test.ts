import { EVENTS_STREAM, Subjects } from '@beacon/contracts';
import { headers } from 'nats';
import { connect as tcpConnect } from 'node:net';
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
    expect(readAck({ data: encode('{"stream":"BEACON_EVENTS","seq":4}'), headers: undefined }, EVENTS_STREAM)).toEqual({
      duplicate: false,
    });
    expect(readAck({ data: encode('{"stream":"BEACON_EVENTS","seq":4,"duplicate":true}'), headers: undefined }, EVENTS_STREAM)).toEqual({
      duplicate: true,
    });
    const hostiles = [
      '',
      'null',
      '7',
      '"x"',
      '[]',
      '{"seq":"4"}',
      '{"seq":4}',
      '{"stream":"OTHER","seq":4}',
      '{"error":{}}',
      '{"error":{"code":503}}',
      '\u0000{',
    ];
    for (const hostile of hostiles) {
      const outcome = readAck({ data: encode(hostile), headers: undefined }, EVENTS_STREAM);
      expect(outcome, hostile).toBeInstanceOf(StoredPublishError);
    }
    const noResponders = headers(503, 'No Responders');
    expect(readAck({ data: new Uint8Array(), headers: noResponders }, EVENTS_STREAM)).toMatchObject({ reason: 'no_stream' });
    const malformed = {
      get hasError(): boolean {
        throw new Error('bad key: v');
      },
    } as unknown as ReturnType<typeof headers>;
    expect(readAck({ data: encode('{}'), headers: malformed }, EVENTS_STREAM)).toMatchObject({ reason: 'refused' });
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

  it('keeps reading its connection when a forged reply with malformed headers answers a publish', async () => {
    const { nats } = await fixture.service({ eventStream: 'provision' });
    const raw = await fixture.raw();
    // No stream, but a subscriber: no 503 comes back, so only the forger answers.
    await (await raw.jetstreamManager()).streams.delete(EVENTS_STREAM);
    const socket = tcpConnect(fixture.server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('CONNECT {"verbose":false,"headers":true}\r\n');
    // Bytes no nats.js client would send: a header key nats.js refuses to decode.
    const header = 'NATS/1.0\r\nbad key: v\r\n\r\n';
    const body = '{}';
    raw.subscribe(Subjects.serviceExpired, {
      callback: (_error, message) => {
        if (message.reply) socket.write(`HPUB ${message.reply} ${header.length} ${header.length + body.length}\r\n${header}${body}\r\n`);
      },
    });
    await raw.flush();
    const [forged] = await nats.publishStoredBatch([{ subject: Subjects.serviceExpired, data: '{"n":1}', messageId: 'forged-1' }], 3000);
    expect(forged).toBeInstanceOf(StoredPublishError);
    expect((forged as StoredPublishError).reason).toBe('refused');
    socket.destroy();
    // Still hearing its acknowledgements: once the stream is back, the next batch is stored.
    await nats.provisionEventStream();
    const [next] = await nats.publishStoredBatch([{ subject: Subjects.serviceExpired, data: '{"n":2}', messageId: 'forged-2' }], 5000);
    expect(next).toBeNull();
  }, 20_000);
});
