import { SERVICE_EVENTS_WILDCARD, Subjects, type AnyServiceEvent, type Service } from '@beacon/contracts';
import type { Subscription } from 'nats';
import type { Logger } from 'pino';
import type { NatsService } from '../nats/nats.service';
import { CatalogState, type CatalogChange } from './catalog-state';

export type { CatalogChange } from './catalog-state';

export interface CatalogViewOptions {
  /** Full resync from a snapshot this often (`BEACON_RESYNC_INTERVAL`), besides after each reconnect. */
  resyncIntervalMs: number;
  /** Services per snapshot page. */
  pageSize?: number;
  requestTimeoutMs?: number;
}

const RETRY_MS = 2000;

/**
 * A local copy of the catalog kept the way a Kubernetes informer keeps one (list +
 * watch): subscribe to `beacon.events.service.*`, fetch `beacon.registry.snapshot`
 * page by page while buffering events, adopt the snapshot, apply the buffered events
 * that are newer, then apply events as they come. It resyncs after every NATS
 * reconnect and every `resyncIntervalMs`, so a missed event costs at most that long.
 * Listeners hear every change, including those a resync discovers.
 */
export class CatalogView {
  private readonly state = new CatalogState();
  private readonly listeners = new Set<(change: CatalogChange) => void>();
  private buffer: AnyServiceEvent[] | null = null;
  private subscription: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private synced = false;
  private stopped = false;

  constructor(
    private readonly nats: NatsService,
    private readonly logger: Logger,
    private readonly options: CatalogViewOptions,
  ) {}

  /** True once a snapshot has been adopted. */
  get ready(): boolean {
    return this.synced;
  }

  get size(): number {
    return this.state.size;
  }

  /** The highest catalog revision the copy reflects (see `CatalogState.revision`). */
  get revision(): number {
    return this.state.revision;
  }

  get(serviceId: string): Service | undefined {
    return this.state.get(serviceId);
  }

  values(): IterableIterator<Service> {
    return this.state.values();
  }

  onChange(listener: (change: CatalogChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes and completes a first sync (retrying until registry-api answers). */
  async start(): Promise<void> {
    this.subscription = this.nats.subscribe(SERVICE_EVENTS_WILDCARD, (event) => this.received(event));
    this.nats.onReconnect(() => void this.resync('reconnected'));
    this.timer = setInterval(() => void this.resync('interval'), this.options.resyncIntervalMs);
    this.timer.unref();
    while (!this.stopped && !this.synced) {
      await this.resync('start');
      if (!this.synced) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.subscription?.unsubscribe();
  }

  /** One sync at a time; a request while one runs joins it. */
  resync(reason: string): Promise<void> {
    this.syncing ??= this.sync(reason).finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private received(event: AnyServiceEvent): void {
    if (this.buffer) this.buffer.push(event);
    else this.emit(this.state.apply(event));
  }

  private async sync(reason: string): Promise<void> {
    this.buffer = [];
    try {
      const { services, revision } = await this.fetchSnapshot();
      const changes = this.state.replace(services, revision);
      for (const change of changes) this.emit(change);
      for (const event of this.buffer) this.emit(this.state.apply(event));
      this.synced = true;
      this.logger.debug({ reason, services: this.state.size, changes: changes.length, revision }, 'catalog view synced');
    } catch (error) {
      // Keep serving the copy we have; buffered events still apply, the next sync catches up.
      for (const event of this.buffer) this.emit(this.state.apply(event));
      this.logger.warn({ err: error, reason }, 'catalog snapshot failed; will retry');
    } finally {
      this.buffer = null;
    }
  }

  private async fetchSnapshot(): Promise<{ services: Service[]; revision: number }> {
    const services: Service[] = [];
    let after: string | null = null;
    let revision = 0;
    do {
      const request: { after?: string; limit: number } = { limit: this.options.pageSize ?? 500 };
      if (after) request.after = after;
      const page = await this.nats.request(Subjects.registrySnapshot, request, this.options.requestTimeoutMs ?? 5000);
      if (revision === 0) revision = page.revision;
      services.push(...page.services);
      after = page.next;
    } while (after);
    return { services, revision };
  }

  private emit(change: CatalogChange | null): void {
    if (!change) return;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ err: error }, 'catalog view listener failed');
      }
    }
  }
}
