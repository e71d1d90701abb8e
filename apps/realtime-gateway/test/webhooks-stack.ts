import type { Webhook, WebhookDelivery, WebhookDeliveryList } from '@beacon/contracts';
import {
  fetchJson,
  startApp,
  startNatsServer,
  startRegistry,
  uniqueName,
  waitFor,
  type AppProcess,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';

/**
 * What the webhook suites run on: a permissioned nats-server (Beacon's real identities),
 * registry-api (the webhooks API and the delivery log) and realtime-gateway (the
 * deliverer), as real processes. Retries wait at most `BEACON_WEBHOOK_RETRY_MAX_DELAY` (2 s
 * here) so a receiver that is down for a few seconds is tried several times.
 */
export interface WebhookStack {
  nats: NatsServerHandle;
  registry: RegistryFixture;
  gateways: AppProcess[];
  /** Starts another gateway on the same NATS (a replica, or a restart). */
  startGateway(env?: Record<string, string>): Promise<AppProcess>;
  createWebhook(body: Record<string, unknown>): Promise<Webhook>;
  /** `POST /webhooks/{id}/test`: also makes sure the gateway has read the webhook. */
  testWebhook(id: string): Promise<WebhookDelivery>;
  deliveries(id: string): Promise<WebhookDelivery[]>;
  /** Waits until the log holds `count` deliveries (not tests) that pass `check`. */
  waitForDeliveries(
    id: string,
    count: number,
    check: (delivery: WebhookDelivery) => boolean,
    timeoutMs?: number,
  ): Promise<WebhookDelivery[]>;
  /** Registers a service of `type` (webhooks in the suites filter on their own type). */
  register(type: string, extra?: Record<string, unknown>): Promise<{ service_id: string; name: string }>;
  dispose(): Promise<void>;
}

export const GATEWAY_WEBHOOK_ENV = { BEACON_WEBHOOK_RETRY_MAX_DELAY: '2' };

export async function startWebhookStack(gatewayEnv: Record<string, string> = {}): Promise<WebhookStack> {
  const nats = await startNatsServer({ auth: true });
  const identity = (name: 'registry-api' | 'realtime-gateway'): Record<string, string> => {
    const { password: _password, ...variables } = nats.identities?.[name] ?? { password: '' };
    return variables;
  };
  const registry = await startRegistry({ nats, env: identity('registry-api') });
  const gateways: AppProcess[] = [];
  const stack: WebhookStack = {
    nats,
    registry,
    gateways,
    async startGateway(env = {}) {
      const gateway = await startApp('realtime-gateway', {
        env: { NATS_URL: nats.url, ...identity('realtime-gateway'), ...GATEWAY_WEBHOOK_ENV, ...gatewayEnv, ...env },
        portVariable: 'HTTP_PORT',
        readyPath: '/ready',
      });
      gateways.push(gateway);
      return gateway;
    },
    async createWebhook(body) {
      const response = await fetchJson<Webhook>('POST', `${registry.base}/webhooks`, body);
      if (response.status !== 201) throw new Error(`POST /webhooks answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body;
    },
    async testWebhook(id) {
      const response = await fetchJson<WebhookDelivery>('POST', `${registry.base}/webhooks/${id}/test`);
      if (response.status !== 200)
        throw new Error(`POST /webhooks/${id}/test answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body;
    },
    async deliveries(id) {
      const response = await fetchJson<WebhookDeliveryList>('GET', `${registry.base}/webhooks/${id}/deliveries`);
      return response.body.deliveries;
    },
    waitForDeliveries(id, count, check, timeoutMs = 30_000) {
      return waitFor(
        `${count} deliveries of webhook ${id}`,
        async () => {
          const found = (await stack.deliveries(id)).filter((delivery) => delivery.event_type !== 'test' && check(delivery));
          return found.length >= count ? found : undefined;
        },
        timeoutMs,
        200,
      );
    },
    register(type, extra = {}) {
      return registry.register({ name: uniqueName('wh'), type, host: '10.9.0.1', port: 80, ...extra });
    },
    async dispose() {
      for (const gateway of gateways) await gateway.stop().catch(() => undefined);
      await registry.dispose();
      await nats.dispose();
    },
  };
  await stack.startGateway();
  return stack;
}
