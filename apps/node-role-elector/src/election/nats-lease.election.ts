import { ELECTION_BUCKET, SERVER_LEASE_KEY, type DiscoveredServer } from '@beacon/contracts';
import { RevisionConflict, StartupError, type LeaseBucket, type LeaseEntry, type Logger, type NatsService } from '@beacon/platform';
import type { ElectorMetrics } from '../elector.metrics';
import type { DecisionSink, ElectionBackend, RoleMode, SelfRef } from './election-backend';
import { LeaseDeadline, leaseTiming, readClock, type ClockReading, type LeaseTiming } from './lease-deadline';

/** What the lease key holds: who the server is and where agents reach it. */
export interface LeaseValue {
  v: 1;
  node_id: string;
  /** The holder process's random id (a restarted node with the same NODE_ID is someone else). */
  instance: string;
  host: string;
  port: number;
  /** Revision at which this tenure began; null in the very first write (read the entry's revision then). */
  fencing_token: number | null;
  since: string;
}

export interface NatsLeaseSettings {
  self: SelfRef;
  mode: RoleMode;
  ttlMs: number;
  marginMs: number;
  pollMs: number;
}

type LeaseState = { kind: 'candidate' } | { kind: 'server'; token: number; revision: number };

interface Holder extends DiscoveredServer {
  token: number;
}

/** The lease value a key holds, or null when it is not one of ours. */
export function parseLease(value: unknown): LeaseValue | null {
  if (typeof value !== 'object' || value === null) return null;
  const lease = value as Partial<LeaseValue>;
  if (typeof lease.node_id !== 'string' || typeof lease.host !== 'string' || typeof lease.port !== 'number') return null;
  return lease as LeaseValue;
}

/**
 * The NATS backend: the server is whoever holds the `server` key of a JetStream KV bucket
 * whose TTL is the lease (nats-server 2.9 has no per-key TTL: an unrefreshed key simply
 * ages out of the bucket).
 *
 * - candidate: every poll interval, create-if-absent; success makes it server with the
 *   returned revision as fencing token. A conflict means someone holds it: read the key
 *   and follow the holder as agent.
 * - server: update-by-revision every third of the lease. Each success moves the deadline
 *   to (that write's start + TTL − margin) on the monotonic clock. A conflict (the key
 *   moved: it expired and someone took it) steps down at once; other failures are retried
 *   until the deadline, when a timer steps it down — NATS unreachable or not.
 * - `guard()` compares the clock with the deadline. Every timer here, the hook runner and
 *   the status handlers call it first, so a process resumed after SIGSTOP steps down
 *   before it does anything as server.
 */
export class NatsLeaseElection implements ElectionBackend {
  readonly kind: 'nats' | 'forced';
  private kv: LeaseBucket | null = null;
  private sink: DecisionSink | null = null;
  private state: LeaseState = { kind: 'candidate' };
  private timing: LeaseTiming;
  private deadline: LeaseDeadline;
  private holder: Holder | null = null;
  private stepTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private rerun = false;
  private stopped = false;
  private failing = false;
  private since = new Date().toISOString();
  /** The holder a forced server last warned about. */
  private warnedAbout: string | null = null;

  constructor(
    private readonly nats: NatsService,
    private readonly settings: NatsLeaseSettings,
    private readonly logger: Logger,
    private readonly metrics: ElectorMetrics,
  ) {
    this.kind = settings.mode === 'auto' ? 'nats' : 'forced';
    this.timing = leaseTiming(settings.ttlMs, settings.marginMs);
    this.deadline = new LeaseDeadline(this.timing);
  }

  async start(sink: DecisionSink): Promise<void> {
    this.sink = sink;
    const timeout = Math.round(Math.max(500, Math.min(5000, this.timing.refreshMs)));
    this.kv = await this.nats.leaseBucket(ELECTION_BUCKET, { ttlMs: this.settings.ttlMs, timeoutMs: timeout });
    this.adoptBucketTtl(this.kv);
    if (this.settings.mode === 'server') {
      sink.decide({ role: 'server', server: this.self(), fencingToken: null }, 'ROLE=server');
    }
    if (this.settings.mode === 'agent') {
      // Learn the server before the first decision, so the hook runs once, with it.
      await this.readHolder();
      if (!this.holder) sink.decide({ role: 'agent', server: null, fencingToken: null }, 'ROLE=agent; no server holds the lease yet');
    }
    this.schedule(0);
  }

  /**
   * The bucket may predate this node's ELECTION_LEASE_TTL. The deadline must come from
   * the TTL the store enforces, or a shorter one: the shorter of the two is used.
   */
  private adoptBucketTtl(kv: LeaseBucket): void {
    const bucketTtl = kv.ttlMs;
    if (bucketTtl === 0) {
      throw new StartupError(
        `the KV bucket ${ELECTION_BUCKET} exists without a TTL, so a dead server's lease would never lapse: ` +
          `delete it (nats kv del ${ELECTION_BUCKET}) and the elector recreates it`,
      );
    }
    if (bucketTtl !== this.settings.ttlMs) {
      const ttlMs = Math.min(bucketTtl, this.settings.ttlMs);
      this.logger.warn(
        { bucket_ttl_ms: bucketTtl, configured_ttl_ms: this.settings.ttlMs, using_ms: ttlMs },
        `KV bucket ${ELECTION_BUCKET} exists with another TTL; using the shorter for the lease deadline (all nodes should share ELECTION_LEASE_TTL)`,
      );
      this.timing = leaseTiming(ttlMs, Math.min(this.settings.marginMs, ttlMs / 2));
      this.deadline = new LeaseDeadline(this.timing);
    }
  }

  guard(): void {
    if (this.state.kind === 'server' && this.deadline.passed()) {
      this.stepDown('deadline', 'lease deadline passed before a refresh succeeded (NATS unreachable, or the process was paused)');
    }
  }

  discovered(): DiscoveredServer[] {
    if (!this.holder) return [];
    const { token: _token, ...server } = this.holder;
    return [server];
  }

  async stop(settle: () => Promise<boolean>): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const state = this.state;
    if (state.kind !== 'server') return;
    this.state = { kind: 'candidate' };
    this.deadline.clear();
    this.sink?.decide({ role: 'agent', server: null, fencingToken: null }, 'shutting down');
    if (await settle()) await this.release(state.revision, 'shutting down');
    else this.logger.warn('the role change did not finish; leaving the lease to lapse on its own');
  }

  // --- the step chain: one KV operation at a time ---

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = setTimeout(() => void this.step(), Math.max(0, delayMs));
  }

  private async step(): Promise<void> {
    this.stepTimer = null;
    this.guard();
    if (this.stopped) return;
    if (this.inFlight) {
      this.rerun = true; // the operation in flight schedules the next step when it ends
      return;
    }
    this.inFlight = true;
    let next = this.settings.pollMs;
    try {
      next = this.state.kind === 'server' ? await this.refresh(this.state) : await this.attempt();
    } catch (error) {
      this.logger.error({ err: error }, 'election step failed unexpectedly');
    } finally {
      this.inFlight = false;
    }
    const rerun = this.rerun;
    this.rerun = false;
    if (this.stepTimer === null) this.schedule(rerun ? 0 : next);
  }

  /** Candidate: take the lease if it is free, else follow its holder. Returns the delay to the next step. */
  private async attempt(): Promise<number> {
    const kv = this.kv as LeaseBucket;
    if (this.settings.mode === 'agent') {
      await this.readHolder();
      return this.settings.pollMs;
    }
    const start = readClock();
    let revision: number;
    try {
      revision = await kv.create(SERVER_LEASE_KEY, this.lease(null));
    } catch (error) {
      if (error instanceof RevisionConflict) {
        this.metrics.leaseAttempts.inc({ result: 'held' });
        this.recovered();
        // Freed between the two requests: try again soon (not at once: no tight loop).
        return (await this.readHolder()) ? this.settings.pollMs : Math.min(50, this.settings.pollMs);
      }
      this.metrics.leaseAttempts.inc({ result: 'failed' });
      this.failed('take the lease', error);
      return this.settings.pollMs;
    }
    this.recovered();
    this.metrics.leaseAttempts.inc({ result: 'won' });
    if (this.stopped) {
      await this.release(revision, 'stopped while taking it');
      return this.settings.pollMs;
    }
    this.deadline.renewedFrom(start);
    if (this.deadline.passed()) {
      // The answer came later than the lease lasts (a pause or a stalled link): not ours to use.
      await this.release(revision, 'the answer came too late to use');
      return 0;
    }
    this.state = { kind: 'server', token: revision, revision };
    this.since = new Date().toISOString();
    this.holder = null;
    this.armDeadline();
    this.logger.info({ fencing_token: revision, ttl_ms: this.timing.ttlMs }, 'took the server lease');
    this.sink?.decide({ role: 'server', server: this.self(), fencingToken: revision }, 'took the lease');
    return this.untilRefresh(start);
  }

  /** Server: extend the lease by revision. Returns the delay to the next step. */
  private async refresh(state: Extract<LeaseState, { kind: 'server' }>): Promise<number> {
    const kv = this.kv as LeaseBucket;
    const start = readClock();
    let revision: number;
    try {
      revision = await kv.update(SERVER_LEASE_KEY, this.lease(state.token), state.revision);
    } catch (error) {
      this.guard();
      if (this.state !== state) return 0;
      if (error instanceof RevisionConflict) {
        this.metrics.leaseRefreshes.inc({ result: 'lost' });
        this.stepDown('lost', 'the lease moved on (it lapsed or another node took it)');
        return 0;
      }
      this.metrics.leaseRefreshes.inc({ result: 'failed' });
      this.failed('refresh the lease', error);
      // Keep trying until the deadline timer steps the node down.
      return Math.min(this.settings.pollMs, this.timing.refreshMs / 2);
    }
    this.guard(); // judged by the deadline this write was meant to extend
    if (this.state !== state) {
      await this.release(revision, 'a refresh landed after the node had stepped down');
      return 0;
    }
    this.deadline.renewedFrom(start);
    if (this.deadline.passed()) {
      this.stepDown('deadline', 'a refresh took longer than the lease');
      await this.release(revision, 'a refresh took longer than the lease');
      return 0;
    }
    state.revision = revision;
    this.metrics.leaseRefreshes.inc({ result: 'ok' });
    this.recovered();
    this.armDeadline();
    return this.untilRefresh(start);
  }

  private untilRefresh(start: ClockReading): number {
    return start.mono + this.timing.refreshMs - performance.now();
  }

  /** Reads who holds the lease and follows them. False when nobody holds it (take it now). */
  private async readHolder(): Promise<boolean> {
    const kv = this.kv as LeaseBucket;
    let entry: LeaseEntry | null;
    try {
      entry = await kv.get(SERVER_LEASE_KEY);
    } catch (error) {
      this.failed('read the lease', error);
      return true;
    }
    if (!entry) return false;
    const value = parseLease(entry.value);
    if (!value) {
      this.logger.warn(
        { revision: entry.revision },
        `the ${SERVER_LEASE_KEY} key of ${ELECTION_BUCKET} holds something else; waiting for it to lapse`,
      );
      return true;
    }
    if (value.instance === this.settings.self.instance && this.state.kind !== 'server') {
      // Our own lease, extended by a write that landed after we stepped down.
      await this.release(entry.revision, 'found our own lease while not server');
      return false;
    }
    this.holder = {
      node_id: value.node_id,
      host: value.host,
      port: value.port,
      mode: 'server',
      last_seen: new Date().toISOString(),
      token: value.fencing_token ?? entry.revision,
    };
    if (this.settings.mode === 'server') {
      if (this.warnedAbout !== value.instance) {
        this.warnedAbout = value.instance;
        this.logger.warn(
          { holder: value.node_id },
          'ROLE=server, but another node holds the lease: two servers until it gives the lease up',
        );
      }
    } else if (this.state.kind !== 'server') {
      const server = { node_id: value.node_id, host: value.host, port: value.port };
      this.sink?.decide({ role: 'agent', server, fencingToken: this.holder.token }, 'following the lease holder');
    }
    return true;
  }

  private stepDown(reason: 'deadline' | 'lost', detail: string): void {
    if (this.state.kind !== 'server') return;
    const token = this.state.token;
    this.state = { kind: 'candidate' };
    this.deadline.clear();
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.metrics.stepDowns.inc({ reason });
    this.logger.warn({ fencing_token: token, reason: detail }, 'stepping down from server');
    if (this.settings.mode === 'server') {
      this.sink?.decide({ role: 'server', server: this.self(), fencingToken: null }, `ROLE=server holds without the lease: ${detail}`);
    } else {
      this.sink?.decide({ role: 'agent', server: null, fencingToken: null }, detail);
    }
    this.schedule(0); // learn who holds it now, or take it back
  }

  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    // +1: timers may fire a fraction of a millisecond before the monotonic deadline.
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlineTimer = null;
        this.guard();
        if (this.state.kind === 'server' && !this.deadlineTimer) this.armDeadline();
      },
      Math.max(0, this.deadline.remainingMs()) + 1,
    );
  }

  private async release(revision: number, why: string): Promise<void> {
    try {
      await (this.kv as LeaseBucket).delete(SERVER_LEASE_KEY, revision);
      this.logger.info({ revision, why }, 'released the server lease');
    } catch (error) {
      // Someone else's by now, or NATS is away: either way it is not ours and lapses.
      this.logger.debug({ err: error, revision, why }, 'could not release the lease');
    }
  }

  private self() {
    const { node_id, host, port } = this.settings.self;
    return { node_id, host, port };
  }

  private lease(token: number | null): LeaseValue {
    const { node_id, instance, host, port } = this.settings.self;
    return { v: 1, node_id, instance, host, port, fencing_token: token, since: this.since };
  }

  private failed(what: string, error: unknown): void {
    if (!this.failing) this.logger.warn({ err: error }, `could not ${what}; retrying`);
    else this.logger.debug({ err: error }, `could not ${what}`);
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) this.logger.info('the lease store answers again');
    this.failing = false;
  }

  private clearTimers(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.stepTimer = null;
    this.deadlineTimer = null;
  }
}
