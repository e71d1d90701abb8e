import {
  WsClient,
  startApp,
  startNatsServer,
  startRegistry,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * registry-api provisions BEACON_EVENTS; compose and Kubernetes may start the gateway
 * first. It must come up, stay not ready, and follow the stream once it appears.
 */
let nats: NatsServerHandle;
let gateway: AppProcess | undefined;
let registry: RegistryFixture | undefined;

beforeAll(async () => {
  nats = await startNatsServer();
});

afterAll(async () => {
  await gateway?.stop();
  await registry?.dispose();
  await nats?.dispose();
});

describe('realtime-gateway started before registry-api', () => {
  it('waits for the event stream, not ready meanwhile, then serves its events from the first', async () => {
    gateway = await startApp('realtime-gateway', { env: { NATS_URL: nats.url }, portVariable: 'HTTP_PORT', readyPath: '/health' });
    const ready = async (): Promise<boolean> => (await fetch(`${gateway?.url}/ready`)).ok;
    expect(await ready()).toBe(false);

    registry = await startRegistry({ nats });
    await waitFor('the gateway ready', ready, 15_000);
    const client = await WsClient.connect(`ws://127.0.0.1:${gateway.port}/api/v1/ws`);
    const service = await registry.register({ name: 'first', host: '10.9.0.1', port: 8080 });
    const [event] = await client.waitForEvents(1, (m) => m.type === 'service_registered');
    expect(event).toMatchObject({ seq: 1, data: { service_id: service.service_id } });
    client.close();
  });
});
