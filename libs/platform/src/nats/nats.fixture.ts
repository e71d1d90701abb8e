import type { Service } from '@beacon/contracts';
import { startNatsServer, type NatsServerHandle } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';
import pino, { type Logger } from 'pino';
import { MetricsService } from '../metrics/metrics.service';
import type { EventStreamDuty } from './event-stream';
import { NatsService, type NatsSettings } from './nats.service';

/**
 * Test set-up shared by the suites beside NatsService, CatalogView and Membership: a real
 * nats-server (libs/testing), and NatsServices on it as an app would have them, each with
 * its own metrics and a logger whose lines the test can read. Excluded from the build.
 */
export interface NatsFixture {
  server: NatsServerHandle;
  /** A NatsService as app `appName` connects it. */
  service(options?: { eventStream?: EventStreamDuty; maxAgeSeconds?: number }): Promise<ConnectedService>;
  /** A plain nats.js client, to put on the wire what no Beacon app would. */
  raw(): Promise<NatsConnection>;
  close(): Promise<void>;
}

export interface ConnectedService {
  nats: NatsService;
  metrics: MetricsService;
  logger: Logger;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** The value of a counter for these labels (0 when never counted). */
  count(name: string, labels: Record<string, string>): Promise<number>;
}

export async function startNatsFixture(): Promise<NatsFixture> {
  const server = await startNatsServer();
  const services: NatsService[] = [];
  const clients: NatsConnection[] = [];
  return {
    server,
    async service(options = {}) {
      const settings: NatsSettings = {
        NATS_URL: server.url,
        NATS_CREDS_FILE: undefined,
        NATS_TLS_CA: undefined,
        BEACON_EVENTS_MAX_AGE: options.maxAgeSeconds ?? 3600,
        BEACON_EVENTS_MAX_BYTES: 8 * 1024 * 1024,
        BEACON_JETSTREAM_REPLICAS: 1,
      };
      const logs: Record<string, unknown>[] = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
      const metrics = new MetricsService('test');
      const nats = await NatsService.connect('test', settings, logger, metrics, options.eventStream);
      services.push(nats);
      const count = async (name: string, labels: Record<string, string>): Promise<number> => {
        const metric = metrics.registry.getSingleMetric(name);
        if (!metric) return 0;
        const { values } = await metric.get();
        const match = values.find((value) => Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected));
        return match?.value ?? 0;
      };
      return { nats, metrics, logger, logs, count };
    },
    async raw() {
      const client = await connect({ servers: server.url });
      clients.push(client);
      return client;
    },
    async close() {
      for (const nats of services) await nats.drain();
      for (const client of clients) await client.close();
      await server.dispose();
    },
  };
}

const encoder = new TextEncoder();

/** A document as bytes, for a raw publish. */
export function bytes(document: unknown): Uint8Array {
  return encoder.encode(typeof document === 'string' ? document : JSON.stringify(document));
}

/** A whole service record as registry-api publishes it (consumers' checks hold every field), with `id` as its id and name. */
export function serviceRecord(id: string, revision: number, extra: Partial<Service> = {}): Service {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    service_id: id,
    name: id,
    type: 'http',
    host: '10.0.0.1',
    port: 80,
    protocol: 'http',
    tags: [],
    metadata: {},
    version: null,
    node_id: null,
    instance_id: null,
    status: 'active',
    health: 'unknown',
    ttl: 300,
    expires_at: at,
    last_heartbeat: null,
    created_at: at,
    updated_at: at,
    health_check_url: null,
    health_check_tcp: null,
    health_check_interval: 60,
    health_check_timeout: 5,
    health_check_retries: 3,
    health_check_rise: 1,
    last_health_check: null,
    consecutive_health_failures: 0,
    load: null,
    mdns_service_type: '_http._tcp',
    mdns_txt_records: {},
    revision,
    ...extra,
  };
}
