import {
  BEACON_APPS,
  READER_IDENTITY,
  Subjects,
  WIRE_VERSION,
  inboxPrefix,
  type NatsIdentity,
  type Webhook,
  type WebhookDeliveryList,
  type WebhooksReply,
} from '@beacon/contracts';
import { fetchJson, startNatsServer, startRegistry, waitFor, type NatsServerHandle, type RegistryFixture } from '@beacon/testing';
import { connect, Events, type NatsConnection, type NatsError } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Webhook URLs and secrets are credentials (a Slack URL is one, a signing secret is one):
 * registry-api hands them out whole only on `beacon.registry.webhooks`, and only
 * realtime-gateway, which delivers, may ask. Here the real nats-server runs Beacon's
 * permissioned config: the gateway's identity gets them, every other identity's request is
 * refused by the server, no one else can read the gateway's replies, and only the gateway
 * may write the delivery log.
 */

const SECRET = 'whsec-permissions-3b9e0f7c51';
const SLACK_URL = 'https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX';
const encode = (document: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(document));
const decode = <T>(data: Uint8Array): T => JSON.parse(new TextDecoder().decode(data)) as T;

let nats: NatsServerHandle;
let registry: RegistryFixture;
let webhook: Webhook;
const connections: NatsConnection[] = [];

async function connectAs(identity: NatsIdentity): Promise<NatsConnection & { errors: string[] }> {
  const connection = await connect({ servers: nats.url, ...nats.credentials(identity) });
  const errors: string[] = [];
  void (async () => {
    for await (const status of connection.status())
      if (status.type === Events.Error) errors.push(typeof status.data === 'string' ? status.data : JSON.stringify(status.data));
  })();
  connections.push(connection);
  return Object.assign(connection, { errors });
}

const deliveryReport = (status: 'delivered' | 'failed') => ({
  v: WIRE_VERSION,
  delivery: {
    delivery_id: `forged:${webhook.webhook_id}`,
    webhook_id: webhook.webhook_id,
    event_type: 'incident_opened',
    status,
    attempts: 1,
    status_code: status === 'delivered' ? 200 : 500,
    last_error: null,
    latency_ms: 1,
    event_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
  },
});

const log = async (): Promise<WebhookDeliveryList['deliveries']> =>
  (await fetchJson<WebhookDeliveryList>('GET', `${registry.base}/webhooks/${webhook.webhook_id}/deliveries`)).body.deliveries;

beforeAll(async () => {
  nats = await startNatsServer({ auth: true });
  const identity = nats.identities?.['registry-api'];
  if (!identity) throw new Error('no credentials for registry-api');
  registry = await startRegistry({
    nats,
    env: { NATS_URL: nats.url, NATS_USER: identity.NATS_USER, NATS_PASSWORD_FILE: identity.NATS_PASSWORD_FILE },
  });
  const created = await fetchJson<Webhook>('POST', `${registry.base}/webhooks`, {
    url: SLACK_URL,
    format: 'slack',
    events: ['*'],
    secret: SECRET,
  });
  expect(created.status, created.text).toBe(201);
  webhook = created.body;
}, 60_000);

afterAll(async () => {
  for (const connection of connections) await connection.close().catch(() => undefined);
  await registry?.dispose();
  await nats?.dispose();
});

describe('webhook secrets on a permissioned NATS', () => {
  it('realtime-gateway gets every webhook with its URL and secret; the API shows neither', async () => {
    const gateway = await connectAs('realtime-gateway');
    const reply = decode<WebhooksReply>((await gateway.request(Subjects.registryWebhooks, encode({}), { timeout: 5000 })).data);
    expect(reply.webhooks.find((entry) => entry.webhook_id === webhook.webhook_id)).toMatchObject({ url: SLACK_URL, secret: SECRET });
    expect(webhook.url).toBe('https://hooks.slack.com/services/T0001/B0001/***');
    expect(JSON.stringify(webhook)).not.toContain(SECRET);
  });

  it('every other identity asking for them is refused by the server', async () => {
    const others = [...BEACON_APPS.filter((app) => app !== 'realtime-gateway'), READER_IDENTITY] as NatsIdentity[];
    for (const identity of others) {
      const asker = await connectAs(identity);
      const error = await asker.request(Subjects.registryWebhooks, encode({}), { timeout: 3000 }).then(
        () => null,
        (failure: NatsError) => failure,
      );
      expect(error?.code, identity).toBe('PERMISSIONS_VIOLATION');
    }
  });

  it("no other identity can listen on the gateway's reply inbox", async () => {
    for (const identity of ['ttl-reaper', 'health-prober', READER_IDENTITY] as NatsIdentity[]) {
      const snoop = await connectAs(identity);
      snoop.subscribe(`${inboxPrefix('realtime-gateway')}.>`);
      await snoop.flush();
      await waitFor(`a permissions violation for ${identity}'s subscription`, () => snoop.errors.includes('PERMISSIONS_VIOLATION'));
    }
  });

  it('only realtime-gateway writes the delivery log: forged reports are refused and change nothing', async () => {
    for (const identity of ['ttl-reaper', 'health-prober', READER_IDENTITY] as NatsIdentity[]) {
      const forger = await connectAs(identity);
      forger.publish(Subjects.webhookDelivery, encode(deliveryReport('failed')));
      await forger.flush();
      await waitFor(`a permissions violation for ${identity}`, () => forger.errors.includes('PERMISSIONS_VIOLATION'));
    }
    const gateway = await connectAs('realtime-gateway');
    gateway.publish(Subjects.webhookDelivery, encode(deliveryReport('delivered')));
    await waitFor('the gateway report logged', async () => (await log()).length === 1);
    expect((await log())[0]).toMatchObject({ status: 'delivered', status_code: 200 });
    // The registry-api process did its part within its permissions (the test's own request as registry-api above was refused).
    const own = nats.output.split('\n').filter((line) => line.includes('Violation') && line.includes('"registry-api"'));
    expect(own.filter((line) => !line.includes(`Subject "${Subjects.registryWebhooks}"`))).toEqual([]);
  });
});
