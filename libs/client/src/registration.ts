import type { HeartbeatResponse, Service } from '@beacon/contracts';
import type { Beacon, RegisterRequest } from './beacon';
import { BeaconError } from './errors';

export interface RegisterOptions {
  /** Heartbeat at ttl/3 with ±10 % jitter until `close()`. Default false. */
  keepAlive?: boolean;
  /** SIGTERM/SIGINT → `close()`, then the signal's default behaviour (Node only). Default false. */
  deregisterOnExit?: boolean;
  /** Heartbeat cadence's TTL in seconds when the body has no `ttl` (capped at the record's TTL). */
  ttl?: number;
}

export type RegistrationState = 'alive' | 'lost' | 'deleted' | 'closed';

export interface RegistrationEvents {
  heartbeat: (answer: HeartbeatResponse) => void;
  /** The first failed heartbeat (or the registry lost the record: 404 → re-registering). */
  lost: (error: BeaconError) => void;
  /** Heartbeats succeed again (after re-registering when it was a 404). */
  restored: (service: Service) => void;
  /** 410: an operator deleted it; heartbeats stop for good. */
  deleted: (error: BeaconError) => void;
  error: (error: unknown) => void;
}

type Listeners = { [E in keyof RegistrationEvents]: Set<RegistrationEvents[E]> };

/** While lost, try again at most this far apart (and never faster than the normal cadence). */
const LOST_RETRY_MAX_MS = 5_000;
const JITTER = 0.1;
const EXIT_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Registrations of this process still closing because of an exit signal: the signal is raised
 * again only when the last of them is done (each handler is a `once` listener, so when the
 * first close() ended, no listener was left and it ended the process under the others).
 */
const closingOnExit = new Map<NodeJS.Signals, number>();

/** Node's `process` when there is one (browsers have none). */
function nodeProcess(): NodeJS.Process | undefined {
  return typeof process !== 'undefined' && typeof process.on === 'function' ? process : undefined;
}

/** A timer that does not keep Node running by itself. */
function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') timer.unref();
}

const REGISTER_PATH = '/api/v1/services/register';

/**
 * The registry's record, or a `protocol` error: a 2xx from something else (a stub, a proxy's
 * page as JSON) was kept as the record, and heartbeats then went to `/services/undefined`.
 */
function registered(value: unknown): Service {
  const record = value as Partial<Service> | null;
  if (
    typeof record === 'object' &&
    record !== null &&
    typeof record.service_id === 'string' &&
    record.service_id !== '' &&
    typeof record.ttl === 'number'
  )
    return record as Service;
  throw new BeaconError({
    code: 'protocol',
    status: 201,
    detail: `POST ${REGISTER_PATH} answered without a service record (no service_id or ttl): is the url Beacon's?`,
    body: value,
    method: 'POST',
    path: REGISTER_PATH,
  });
}

/** A heartbeat's answer, or a `protocol` error (a 200 `{}` renewed nothing, and emptied the record held). */
function renewal(value: unknown, id: string): HeartbeatResponse {
  const answer = value as Partial<HeartbeatResponse> | null;
  if (
    typeof answer === 'object' &&
    answer !== null &&
    typeof answer.status === 'string' &&
    typeof answer.expires_at === 'string' &&
    typeof answer.last_heartbeat === 'string'
  )
    return answer as HeartbeatResponse;
  const path = `/api/v1/services/${encodeURIComponent(id)}/heartbeat`;
  throw new BeaconError({
    code: 'protocol',
    status: 200,
    detail: `PUT ${path} answered without status, expires_at and last_heartbeat: is the url Beacon's?`,
    body: value,
    method: 'PUT',
    path,
  });
}

/**
 * A registered service, kept alive by heartbeats when asked: lost on a failed heartbeat,
 * re-registered when the registry no longer knows it (404), stopped for good when an
 * operator deleted it (410). `close()` deregisters.
 */
export class Registration {
  private current: Service;
  private status: RegistrationState = 'alive';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly listeners: Listeners = {
    heartbeat: new Set(),
    lost: new Set(),
    restored: new Set(),
    deleted: new Set(),
    error: new Set(),
  };
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();

  private constructor(
    private readonly beacon: Beacon,
    private readonly body: RegisterRequest,
    private readonly options: RegisterOptions,
    service: Service,
  ) {
    this.current = service;
  }

  /** Registers, then starts heartbeats and the exit hooks as asked. The first registration's error is thrown. */
  static async start(beacon: Beacon, body: RegisterRequest, options: RegisterOptions = {}): Promise<Registration> {
    const service = registered(await beacon.registerOnce(body));
    const registration = new Registration(beacon, body, options, service);
    if (options.keepAlive) registration.schedule();
    if (options.deregisterOnExit) registration.hookSignals();
    return registration;
  }

  /** The service id (a re-registration after the registry lost the record may bring a new one). */
  get id(): string {
    return this.current.service_id;
  }

  /** The latest known record. */
  get service(): Service {
    return this.current;
  }

  get state(): RegistrationState {
    return this.status;
  }

  /**
   * Seconds between heartbeats × 3: the body's ttl, else the option's, but never longer than
   * the record's as the registry last renewed it (its default when the body had none; an
   * operator may have lowered it since), or it would expire between beats.
   */
  private get ttlSeconds(): number {
    return Math.min(this.body.ttl ?? this.options.ttl ?? Infinity, this.current.ttl);
  }

  on<E extends keyof RegistrationEvents>(event: E, listener: RegistrationEvents[E]): () => void {
    const set = this.listeners[event] as Set<RegistrationEvents[E]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Stops heartbeats and deregisters (a 404 or 410 is fine: it is gone already). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const wasDeleted = this.status === 'deleted';
    this.status = 'closed';
    this.stopTimer();
    this.unhookSignals();
    await this.inflight;
    if (wasDeleted) return;
    try {
      await this.beacon.deregister(this.id);
    } catch (error) {
      if (error instanceof BeaconError && (error.code === 'not_found' || error.code === 'gone')) return;
      throw error;
    }
  }

  /** The cadence without jitter, in ms: also how long one heartbeat may take before it is given up. */
  private get cadenceMs(): number {
    return (this.ttlSeconds * 1000) / 3;
  }

  private interval(): number {
    const normal = this.cadenceMs * (1 - JITTER + Math.random() * 2 * JITTER);
    return this.status === 'lost' ? Math.min(normal, LOST_RETRY_MAX_MS) : normal;
  }

  private schedule(): void {
    if (this.status === 'closed' || this.status === 'deleted') return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inflight = this.beat().finally(() => {
        this.inflight = undefined;
        this.schedule();
      });
    }, this.interval());
    unrefTimer(this.timer);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    try {
      // A request stuck longer than the cadence (a half-open connection, a paused registry) is
      // given up, so the next one goes out in time rather than after the client's whole timeout.
      const answer = renewal(await this.beacon.heartbeat(this.id, undefined, { timeoutMs: Math.ceil(this.cadenceMs) }), this.id);
      if (this.ended()) return;
      const { status, expires_at, last_heartbeat } = answer;
      // The TTL the registry renewed the record by: it follows an operator's update of `ttl`.
      const renewed = Math.round((Date.parse(expires_at) - Date.parse(last_heartbeat)) / 1000);
      const ttl = Number.isFinite(renewed) && renewed > 0 ? renewed : this.current.ttl;
      this.current = { ...this.current, status, expires_at, last_heartbeat, ttl };
      this.emit('heartbeat', answer);
      if (this.status === 'lost') this.restore(this.current);
    } catch (error) {
      if (this.ended()) return;
      await this.failed(error);
    }
  }

  private ended(): boolean {
    return this.status === 'closed' || this.status === 'deleted';
  }

  private async failed(error: unknown): Promise<void> {
    if (!(error instanceof BeaconError)) {
      this.emit('error', error);
      return;
    }
    switch (error.code) {
      case 'gone':
        this.status = 'deleted';
        this.stopTimer();
        this.emit('deleted', error);
        return;
      case 'not_found':
        this.lose(error);
        await this.reregister();
        return;
      case 'network':
      case 'unavailable':
      case 'server':
      case 'rate_limited':
      case 'protocol':
        this.lose(error);
        return;
      default:
        // unauthorized, bad_request…: the registry answered but refused, so the record is not
        // renewed either (a rotated token lets it lapse): lost, and the refusal said as an error.
        this.lose(error);
        this.emit('error', error);
    }
  }

  private lose(error: BeaconError): void {
    if (this.status !== 'alive') return;
    this.status = 'lost';
    this.emit('lost', error);
  }

  private restore(service: Service): void {
    this.status = 'alive';
    this.emit('restored', service);
  }

  /** The registry no longer knows the id: register the original body again (same identity, same record when it exists). */
  private async reregister(): Promise<void> {
    try {
      const service = registered(await this.beacon.registerOnce(this.body));
      // Kept even when close() came meanwhile: close() waits for this and must DELETE the id
      // the registration just created (it deleted the old one, and the new one stayed).
      this.current = service;
      if (this.ended()) return;
      this.restore(service);
    } catch (error) {
      if (this.ended()) return;
      this.emit('error', error);
    }
  }

  private emit<E extends keyof RegistrationEvents>(event: E, ...args: Parameters<RegistrationEvents[E]>): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        (listener as (...values: Parameters<RegistrationEvents[E]>) => void)(...args);
      } catch (error) {
        if (event !== 'error') this.emit('error', error);
      }
    }
  }

  private hookSignals(): void {
    const node = nodeProcess();
    if (!node) return;
    for (const signal of EXIT_SIGNALS) {
      const handler = (): void => {
        closingOnExit.set(signal, (closingOnExit.get(signal) ?? 0) + 1);
        this.close()
          .catch((error: unknown) => this.emit('error', error))
          .finally(() => {
            const left = (closingOnExit.get(signal) ?? 1) - 1;
            closingOnExit.set(signal, left);
            // Our handler is gone now, so raising the signal again does what it would have done
            // without us; a program with its own handler got this signal too and decides itself.
            if (left === 0 && node.listenerCount(signal) === 0) node.kill(node.pid, signal);
          });
      };
      this.signalHandlers.set(signal, handler);
      node.once(signal, handler);
    }
  }

  private unhookSignals(): void {
    const node = nodeProcess();
    if (!node) return;
    for (const [signal, handler] of this.signalHandlers) node.removeListener(signal, handler);
    this.signalHandlers.clear();
  }
}
