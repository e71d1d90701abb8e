import { MetricsService, type Counter, type Gauge, type Histogram } from '@beacon/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { CapacityReason } from './capacity';
import type { Transport } from './transport';

type Kind = Transport['kind'];

/** The gateway's metrics, with label children bound once (a fan-out sends thousands per second). */
@Injectable()
export class GatewayMetrics {
  readonly clients: Gauge<'transport'>;
  private readonly sent: Record<Kind, ReturnType<Counter<'transport'>['labels']>>;
  private readonly dropped: Record<Kind, ReturnType<Counter<'transport'>['labels']>>;
  private readonly failures: Counter<'transport'>;
  private readonly latency: Histogram;
  private readonly refused: Counter<'reason'>;

  constructor(@Inject(MetricsService) metrics: MetricsService) {
    this.clients = metrics.gauge('beacon_gateway_clients', 'Connected clients, by transport', ['transport']);
    const sent = metrics.counter('beacon_gateway_messages_sent_total', 'Event messages sent to clients, by transport', ['transport']);
    const dropped = metrics.counter(
      'beacon_gateway_slow_clients_dropped_total',
      'Clients disconnected for not reading fast enough (close code 1013), by transport',
      ['transport'],
    );
    this.sent = { ws: sent.labels({ transport: 'ws' }), sse: sent.labels({ transport: 'sse' }) };
    this.dropped = { ws: dropped.labels({ transport: 'ws' }), sse: dropped.labels({ transport: 'sse' }) };
    // Every series exists from the start, so `increase()` sees the first drop after a restart.
    for (const kind of ['ws', 'sse'] as const) {
      this.clients.set({ transport: kind }, 0);
      this.sent[kind].inc(0);
      this.dropped[kind].inc(0);
    }
    this.failures = metrics.counter(
      'beacon_gateway_delivery_failures_total',
      'Events that could not be delivered to one client because of an error (the other clients still got them), by transport',
      ['transport'],
    );
    this.latency = metrics.histogram(
      'beacon_gateway_fanout_latency_seconds',
      'From an event’s publication by its owner to its sending to a client',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    );
    this.refused = metrics.counter(
      'beacon_gateway_connections_refused_total',
      'WebSocket and SSE clients refused for want of a slot: gateway_full (GATEWAY_MAX_CLIENTS, 503) or address_full (GATEWAY_MAX_CLIENTS_PER_ADDRESS, 429)',
      ['reason'],
    );
    for (const reason of ['gateway_full', 'address_full'] as const) this.refused.inc({ reason }, 0);
  }

  connectionRefused(reason: CapacityReason): void {
    this.refused.inc({ reason });
  }

  messageSent(kind: Kind, publishedAt: number): void {
    this.sent[kind].inc();
    this.latency.observe(Math.max(0, Date.now() - publishedAt) / 1000);
  }

  clientDropped(kind: Kind): void {
    this.dropped[kind].inc();
  }

  deliveryFailed(kind: Kind): void {
    this.failures.inc({ transport: kind });
  }
}
