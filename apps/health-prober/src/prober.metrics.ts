import { PROBE_OUTCOMES, type ProbeOutcome } from '@beacon/contracts';
import { MetricsService } from '@beacon/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { LANES, type Lane } from './scheduling/lanes';

/** What the slot gauges read at each scrape. */
export interface SlotState {
  readonly waiting: number;
  readonly backedOff: number;
  inFlightIn(lane: Lane): number;
}

/** The prober's own metrics (the platform adds process, HTTP and NATS ones). */
@Injectable()
export class ProberMetrics {
  readonly probes: Counter<'outcome'>;
  readonly duration: Histogram<'kind'>;
  readonly ownedTargets: Gauge;
  readonly inFlight: Gauge;
  private slots: SlotState | null = null;
  /** Label children bound once: looking them up by label object costs a hash per check. */
  private readonly byOutcome = new Map<ProbeOutcome, Counter.Internal>();
  private readonly byKind = new Map<'http' | 'tcp', Histogram.Internal<'kind'>>();

  constructor(@Inject(MetricsService) metrics: MetricsService) {
    this.probes = metrics.counter('beacon_probes_total', 'Health checks run, by outcome', ['outcome']);
    // Every outcome from zero, so rate() and alerts see a series before the first failure.
    for (const outcome of PROBE_OUTCOMES) this.probes.inc({ outcome }, 0);
    this.duration = metrics.histogram(
      'beacon_probe_duration_seconds',
      'Time one health check took, by kind (http or tcp)',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ['kind'],
    );
    this.ownedTargets = metrics.gauge(
      'beacon_prober_owned_targets',
      'Targets this replica checks on a schedule (its share of the catalog)',
    );
    this.inFlight = metrics.gauge('beacon_probes_in_flight', 'Health checks running now');
    const read = (): SlotState | null => this.slots;
    metrics.gauge('beacon_probes_waiting', 'Health checks due but waiting for a slot (PROBE_CONCURRENCY)', [], function () {
      this.set(read()?.waiting ?? 0);
    });
    metrics.gauge(
      'beacon_probe_lane_in_flight',
      'Health checks running now by lane: fast (last check answered within 1 s), new (not checked yet), slow (took longer or timed out; new and slow never get every slot)',
      ['lane'],
      function () {
        for (const lane of LANES) this.set({ lane }, read()?.inFlightIn(lane) ?? 0);
      },
    );
    metrics.gauge(
      'beacon_prober_backed_off_targets',
      'Targets checked less often than their interval because their checks keep timing out',
      [],
      function () {
        this.set(read()?.backedOff ?? 0);
      },
    );
    for (const outcome of PROBE_OUTCOMES) this.byOutcome.set(outcome, this.probes.labels({ outcome }));
    for (const kind of ['http', 'tcp'] as const) this.byKind.set(kind, this.duration.labels({ kind }));
  }

  /** Where the slot gauges read from, at each scrape. */
  watch(slots: SlotState): void {
    this.slots = slots;
  }

  /** Counts one finished check and its duration. */
  observe(outcome: ProbeOutcome, kind: 'http' | 'tcp', seconds: number): void {
    this.byOutcome.get(outcome)?.inc();
    this.byKind.get(kind)?.observe(seconds);
  }
}
