import { MetricsService, type Counter, type Gauge, type Histogram } from '@beacon/platform';
import { Inject, Injectable } from '@nestjs/common';

export type DeliveryOutcome = 'delivered' | 'retried' | 'failed' | 'dropped';

/** Webhook delivery's metrics (`beacon_webhook_*`). */
@Injectable()
export class WebhookMetrics {
  private readonly deliveries: Counter<'outcome'>;
  private readonly duration: Histogram;
  private readonly eventToDelivery: Histogram;
  readonly queueDepth: Gauge;

  constructor(@Inject(MetricsService) metrics: MetricsService) {
    this.deliveries = metrics.counter(
      'beacon_webhook_deliveries_total',
      'Webhook delivery attempts by outcome: delivered (2xx), retried (to be tried again later), failed (refused, or past the retry horizon), dropped (its webhook is gone or disabled)',
      ['outcome'],
    );
    for (const outcome of ['delivered', 'retried', 'failed', 'dropped'] as const) this.deliveries.inc({ outcome }, 0);
    this.duration = metrics.histogram(
      'beacon_webhook_delivery_duration_seconds',
      'One webhook POST, from the request to the receiver’s answer (or the error)',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.eventToDelivery = metrics.histogram(
      'beacon_webhook_event_to_delivery_seconds',
      'From an event to its webhook’s 2xx answer, retries included',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800, 3600, 21_600, 86_400],
    );
    this.queueDepth = metrics.gauge(
      'beacon_webhook_queue_depth',
      'Webhook deliveries waiting or in flight in the BEACON_WEBHOOKS work queue (retries waiting included), as its consumer reports them every few seconds',
    );
  }

  attempt(outcome: DeliveryOutcome, latencyMs: number | null): void {
    this.deliveries.inc({ outcome });
    if (latencyMs !== null) this.duration.observe(latencyMs / 1000);
  }

  delivered(eventAt: number): void {
    this.eventToDelivery.observe(Math.max(0, Date.now() - eventAt) / 1000);
  }
}
