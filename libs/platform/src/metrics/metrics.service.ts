import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process with the metrics every app shares;
 * apps add their own through `registry`. Names follow `beacon_<thing>_<unit>`.
 */
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly natsConnected: Gauge;
  readonly eventsPublished: Counter<'subject'>;

  constructor(appName: string) {
    this.registry.setDefaultLabels({ app: appName });
    collectDefaultMetrics({ register: this.registry, prefix: 'beacon_' });
    // Gauges named like counters (`promtool check metrics` rejects them); the same numbers
    // are in beacon_nodejs_active_{handles,requests,resources} by type.
    for (const kind of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`beacon_nodejs_active_${kind}_total`);
    this.httpRequests = new Counter({
      name: 'beacon_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'beacon_http_request_duration_seconds',
      help: 'Time from request to response, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.natsConnected = new Gauge({
      name: 'beacon_nats_connected',
      help: '1 while the NATS connection is up, 0 while it is down',
      registers: [this.registry],
    });
    this.eventsPublished = new Counter({
      name: 'beacon_events_published_total',
      help: 'Events published to NATS, by subject',
      labelNames: ['subject'],
      registers: [this.registry],
    });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** `collect`, if given, runs at every scrape before the gauge is read (`this` is the gauge). */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) });
  }

  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }
}
