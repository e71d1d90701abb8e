import {
  EVENTS_STREAM,
  QueueGroups,
  Subjects,
  WEBHOOKS_STREAM,
  type WebhookDelivery,
  type WebhookTestReply,
  type WebhookTestRequest,
} from '@beacon/contracts';
import { NatsService, RequestError, ROOT_LOGGER, SsrfGuard, type DurableWork, type Logger } from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Consumer } from 'nats';
import { randomUUID } from 'node:crypto';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { DELIVERY_CONSUMER, WebhookDeliverer } from './webhook-deliverer';
import { WebhookDirectory } from './webhook-directory';
import { FANOUT_CONSUMER, WebhookFanout } from './webhook-fanout';
import { renderDelivery } from './webhook-formats';
import { WebhookSender } from './webhook-sender';
import { WebhookMetrics } from './webhooks.metrics';

/** How long a job may go unacknowledged before JetStream hands it to another replica (a POST in flight says `working` meanwhile). */
const ACK_WAIT_MS = 30_000;
/**
 * Jobs delivered and not yet acknowledged, across replicas: POSTs in flight plus retries
 * waiting out their delay (a `nak` with a delay keeps its job pending). A receiver down
 * for a day holds its retries here; past this many, new jobs wait in the queue.
 */
const MAX_JOBS_PENDING = 20_000;
/** Events handed to the fan-out and not yet acknowledged. */
const MAX_EVENTS_PENDING = 1024;
const SETUP_RETRY_MS = 2000;
/** Longest a `POST /webhooks/{id}/test` POST may take. */
const TEST_TIMEOUT_MS = 10_000;
const DEPTH_REFRESH_MS = 5000;

/**
 * Webhook delivery in realtime-gateway: it already follows BEACON_EVENTS, holds no state
 * of its own (replicas share the work through durable consumers) and is not registry-api,
 * whose request latency must not depend on slow receivers. Sets up the BEACON_WEBHOOKS
 * work queue and both durable consumers, runs the fan-out and the deliverer, keeps the
 * queue-depth gauge, and answers `beacon.webhooks.test`.
 */
@Injectable()
export class WebhooksService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly work: DurableWork;
  private readonly sender: WebhookSender;
  private readonly fanout: WebhookFanout;
  private readonly deliverer: WebhookDeliverer;
  private depthTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(GATEWAY_ENV) private readonly config: GatewayEnv,
    @Inject(WebhookDirectory) private readonly directory: WebhookDirectory,
    @Inject(WebhookMetrics) private readonly metrics: WebhookMetrics,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.work = nats.durableWork();
    const guard = new SsrfGuard({ deny: config.PROBE_DENY_CIDRS, allow: config.PROBE_ALLOW_CIDRS });
    this.sender = new WebhookSender(guard, {
      timeoutMs: config.BEACON_WEBHOOK_TIMEOUT * 1000,
      maxSockets: config.BEACON_WEBHOOK_CONCURRENCY,
      userAgent: 'Beacon-Webhooks/1',
    });
    this.fanout = new WebhookFanout(this.work, directory, logger);
    this.deliverer = new WebhookDeliverer(nats, this.work, directory, this.sender, metrics, logger, {
      concurrency: config.BEACON_WEBHOOK_CONCURRENCY,
      // A POST unanswered after 2 s (or half the timeout) frees its slot, up to three times the
      // concurrency of them: receivers that never answer cannot hold the other webhooks up.
      slowMs: Math.min(2000, (config.BEACON_WEBHOOK_TIMEOUT * 1000) / 2),
      maxSlow: 3 * config.BEACON_WEBHOOK_CONCURRENCY,
      ackWaitMs: ACK_WAIT_MS,
      maxDelayMs: config.BEACON_WEBHOOK_RETRY_MAX_DELAY * 1000,
      retryForMs: config.BEACON_WEBHOOK_RETRY_FOR * 1000,
    });
  }

  onApplicationBootstrap(): void {
    this.nats.serve(Subjects.webhookTest, null, (request) => this.test(request), { queue: QueueGroups.realtimeGateway });
    void this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.depthTimer) clearInterval(this.depthTimer);
    this.fanout.stop();
    // The loops' pulls end with the connection (at most a pull's wait); the POSTs in flight are waited for.
    await this.deliverer.stop();
    this.sender.close();
  }

  /** Sets up the queue and consumers (retrying until NATS and BEACON_EVENTS are there), then runs both loops. */
  private async start(): Promise<void> {
    const ready = await this.until(async () => {
      await this.openJobs();
      await this.openEvents();
    });
    if (!ready) return;
    this.depthTimer = setInterval(() => void this.refreshDepth(), DEPTH_REFRESH_MS);
    void this.refreshDepth();
    // Events are judged against the webhooks: none is fanned out before they are read.
    await this.directory.whenLoaded();
    if (this.stopped) return;
    this.logger.info({ concurrency: this.config.BEACON_WEBHOOK_CONCURRENCY }, 'delivering webhooks');
    // After a failed pull each loop opens its consumer again: a stream deleted and created anew loses its consumers.
    await Promise.all([this.fanout.run(() => this.openEvents()), this.deliverer.run(() => this.openJobs())]);
  }

  /** Runs `step` until it succeeds (true) or the gateway stops (false), saying why it waits. */
  private async until(step: () => Promise<void>): Promise<boolean> {
    while (!this.stopped) {
      try {
        await step();
        return true;
      } catch (error) {
        this.logger.warn({ err: error }, 'webhook delivery is not set up yet (NATS or BEACON_EVENTS missing?); trying again');
        await new Promise((resolve) => setTimeout(resolve, SETUP_RETRY_MS));
      }
    }
    return false;
  }

  /** The BEACON_WEBHOOKS work queue and its shared consumer, created or brought up to date. */
  private async openJobs(): Promise<Consumer> {
    await this.work.provisionWorkQueue({
      name: WEBHOOKS_STREAM,
      subjects: [Subjects.webhookJobs],
      maxBytes: this.config.BEACON_WEBHOOK_QUEUE_MAX_BYTES,
      maxAgeMs: this.config.BEACON_WEBHOOK_RETRY_FOR * 1000,
      duplicateWindowMs: 10 * 60 * 1000,
      replicas: this.config.BEACON_JETSTREAM_REPLICAS,
    });
    return this.work.durable({
      stream: WEBHOOKS_STREAM,
      name: DELIVERY_CONSUMER,
      startAt: 'all',
      ackWaitMs: ACK_WAIT_MS,
      maxAckPending: MAX_JOBS_PENDING,
    });
  }

  /** The fan-out's consumer of BEACON_EVENTS; created now, it starts at new events (webhooks are about what happens from now on). */
  private openEvents(): Promise<Consumer> {
    return this.work.durable({
      stream: EVENTS_STREAM,
      name: FANOUT_CONSUMER,
      startAt: 'new',
      ackWaitMs: ACK_WAIT_MS,
      maxAckPending: MAX_EVENTS_PENDING,
    });
  }

  private async refreshDepth(): Promise<void> {
    try {
      const depth = await this.work.depth(WEBHOOKS_STREAM, DELIVERY_CONSUMER);
      this.metrics.queueDepth.set(depth.pending + depth.inFlight);
    } catch {
      // Kept at its last value; NATS being away is reported by beacon_nats_connected.
    }
  }

  /** `POST /webhooks/{id}/test` (through registry-api): a sample in the webhook's format, sent now. */
  private async test(request: WebhookTestRequest): Promise<WebhookTestReply> {
    if (typeof request.webhook_id !== 'string' || request.webhook_id === '') {
      throw new RequestError('bad_request', 'webhook_id: must be a non-empty string');
    }
    let webhook = this.directory.get(request.webhook_id);
    if (!webhook) {
      // Created a moment ago: its change notice may not have been read yet.
      await this.directory.refresh();
      webhook = this.directory.get(request.webhook_id);
    }
    if (!webhook) throw new RequestError('not_found', `webhook ${request.webhook_id} not found`);
    const now = new Date();
    const eventId = `test-${randomUUID()}`;
    const deliveryId = `${eventId}:${webhook.webhook_id}`;
    const data = { message: 'Test notification from Beacon', webhook_id: webhook.webhook_id, description: webhook.description };
    const rendered = renderDelivery(
      {
        format: webhook.format,
        secret: webhook.secret,
        webhookId: webhook.webhook_id,
        eventId,
        deliveryId,
        type: 'test',
        data,
        timestamp: now.toISOString(),
      },
      now.getTime(),
    );
    // registry-api waits 15 s for this answer: the test's POST gets at most 10 s whatever BEACON_WEBHOOK_TIMEOUT says.
    const outcome = await this.sender.send(webhook.url, rendered, Math.min(TEST_TIMEOUT_MS, this.config.BEACON_WEBHOOK_TIMEOUT * 1000));
    this.metrics.attempt(outcome.delivered ? 'delivered' : 'failed', outcome.latencyMs);
    const delivery: WebhookDelivery = {
      delivery_id: deliveryId,
      webhook_id: webhook.webhook_id,
      event_type: 'test',
      status: outcome.delivered ? 'delivered' : 'failed',
      attempts: 1,
      status_code: outcome.statusCode,
      last_error: outcome.error,
      latency_ms: outcome.latencyMs,
      event_at: now.toISOString(),
      updated_at: new Date().toISOString(),
    };
    this.nats.publish(Subjects.webhookDelivery, { v: 1, delivery });
    return { v: 1, delivery };
  }
}
