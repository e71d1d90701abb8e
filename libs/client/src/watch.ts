import type { Service } from '@beacon/contracts';
import { liveUrl, messageText, resolveWebSocket, type ResolvedWebSocket, type WebSocketLike } from './live-socket';
import { candidatePool, choose, type PickStrategy } from './pick';

export type { PickStrategy } from './pick';

/** What a watch needs of its client: where the gateway is and how to reach it. */
export interface WatchConnection {
  /** Beacon's base URL (`http://host:8097`); the WebSocket is `ws://host:8097/api/v1/ws`. */
  url: string;
  token?: string;
  /** A WebSocket constructor; default globalThis.WebSocket, else the `ws` package (Node 20). */
  WebSocket?: unknown;
}

export interface WatchFilter {
  type?: string;
  tags?: string[];
  name?: string;
  service_id?: string[];
}

export interface WatchOptions {
  /** realtime-gateway's base URL when it is not the client's (no proxy in front: `http://host:8098`). */
  url?: string;
  /** First reconnection delay (doubling, with jitter, up to reconnectMaxMs). Default 250. */
  reconnectMinMs?: number;
  /** Default 10,000. */
  reconnectMaxMs?: number;
  /** A `{"type":"ping"}` this often; nothing received for two intervals drops the connection. Default 20,000. */
  pingIntervalMs?: number;
  /** Largest message accepted (the snapshot is one message). Default 16 MiB. */
  maxMessageBytes?: number;
  /** Follow renewals (`service_heartbeat`) so `expires_at` stays current for pick(). Default true. */
  heartbeats?: boolean;
}

export type WatchChange =
  | { kind: 'snapshot'; services: Service[] }
  | { kind: 'upsert'; service: Service; event: string }
  | { kind: 'remove'; service_id: string; event: string };

type WatchEvent = 'connected' | 'disconnected' | 'resync';

/** Service events that carry the record (whole, or under `data.service`). */
const UPSERTS = new Set(['service_registered', 'service_updated', 'service_expired', 'health_status_changed', 'critical_load']);
const SERVICE_EVENTS = [...UPSERTS, 'service_deregistered'];
/** Ids removed, with the revision that removed them, so a late older upsert does not bring one back. */
const TOMBSTONES_MAX = 10_000;
const CLOSE_WAIT_MS = 1_000;

interface Message {
  type?: unknown;
  data?: unknown;
  seq?: unknown;
  revision?: unknown;
  timestamp?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isService = (value: unknown): value is Service =>
  isObject(value) && typeof value.service_id === 'string' && typeof value.revision === 'number' && typeof value.status === 'string';
/**
 * A list filter as the gateway reads it from the query (split on commas, trimmed, empty
 * items dropped): the watch sends and matches this, so it keeps exactly what the gateway sends.
 */
const listOf = (values: readonly string[] | undefined): string[] =>
  (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/**
 * A live catalog kept current over realtime-gateway's WebSocket: a snapshot first, then
 * every change in stream order; after a drop it resumes with `since=<seq>` (no gap, no
 * duplicate), and after `resync_required` or close 1012 it takes a snapshot again.
 */
export class Watch {
  readonly ready: Promise<void>;
  private readonly cache = new Map<string, Service>();
  private readonly tombstones = new Map<string, number>();
  private readonly changeListeners = new Set<(change: WatchChange) => void>();
  private readonly eventListeners = new Map<WatchEvent, Set<() => void>>();
  private readonly cursor: { last?: string } = {};
  /** The filter's lists as the gateway reads them. */
  private readonly tags: string[];
  private readonly ids: string[];
  /** pick()'s candidates, kept until the cache changes or the first of them lapses. */
  private pool: { pool: Service[]; validUntil: number } | undefined;
  private position = 0;
  private synced = false;
  private needSnapshot = true;
  /**
   * Whether a resume from `seq` is safe: not until a live event past the snapshot's position
   * arrived, since the gateway follows a snapshot with the few changes its copy had not
   * applied yet, which sit at or before that position and a `since=` would skip.
   */
  private resumable = false;
  private connected = false;
  private closed = false;
  private attempt = 0;
  private socket: WebSocketLike | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  /** The gateway's clock minus this one, from the last greeting, snapshot or pong (0 until one). */
  private clockOffsetMs = 0;
  private resolved: Promise<ResolvedWebSocket> | undefined;
  private settleReady: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(
    readonly connection: WatchConnection,
    readonly filter: WatchFilter = {},
    readonly options: WatchOptions = {},
  ) {
    // The gateway refuses an empty one (400) before the upgrade, which a WebSocket reports as
    // a failed connection only: refused here, it would be retried for ever.
    for (const key of ['type', 'name'] as const) {
      const value: unknown = filter[key];
      if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
        throw new TypeError(`watch(): filter.${key} must be a non-empty string when given`);
      }
    }
    this.tags = listOf(filter.tags);
    this.ids = listOf(filter.service_id);
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Unobserved, a watch closed before its snapshot would report an unhandled rejection.
    this.ready.catch(() => undefined);
    void this.connect();
  }

  /** The last stream position applied. */
  get seq(): number {
    return this.position;
  }

  services(): Service[] {
    return [...this.cache.values()];
  }

  get(id: string): Service | undefined {
    return this.cache.get(id);
  }

  onChange(listener: (change: WatchChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  on(event: WatchEvent, listener: () => void): () => void {
    const listeners = this.eventListeners.get(event) ?? new Set();
    this.eventListeners.set(event, listeners);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** One instance that may take traffic (see pick.ts for the rules), or undefined. */
  pick(strategy: PickStrategy = 'random'): Service | undefined {
    const now = Date.now() + this.clockOffsetMs;
    if (!this.pool || now >= this.pool.validUntil) this.pool = candidatePool(this.cache.values(), now);
    return choose(this.pool.pool, strategy, this.cursor);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    this.settleReady?.reject(new Error('the watch was closed before its first snapshot'));
    this.settleReady = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await closeSocket(socket);
    this.setConnected(false);
  }

  private get reconnectMinMs(): number {
    return this.options.reconnectMinMs ?? 250;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let resolved: ResolvedWebSocket;
    let url: string;
    try {
      this.resolved ??= resolveWebSocket(this.connection.WebSocket);
      resolved = await this.resolved;
      url = liveUrl(this.options.url ?? this.connection.url, this.query(resolved.kind !== 'ws'));
    } catch (error) {
      // No WebSocket at all, or a URL that is not one, will not fix itself: the watch cannot start.
      this.settleReady?.reject(error instanceof Error ? error : new Error(String(error)));
      this.settleReady = undefined;
      this.closed = true;
      return;
    }
    if (this.closed) return;
    const options: Record<string, unknown> = { maxPayload: this.maxMessageBytes };
    if (resolved.kind === 'ws' && this.connection.token) options.headers = { authorization: `Bearer ${this.connection.token}` };
    let socket: WebSocketLike;
    try {
      socket = new resolved.WebSocket(url, undefined, options);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.lastMessageAt = Date.now();
    socket.onopen = () => undefined;
    socket.onerror = () => undefined; // the close that follows does the work
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.lastMessageAt = Date.now();
      try {
        this.receive(event.data);
      } catch {
        // One malformed message never ends the watch.
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.dropped(event.code);
    };
    this.startPing(socket);
  }

  private get maxMessageBytes(): number {
    return this.options.maxMessageBytes ?? 16 * 1024 * 1024;
  }

  /** The connection's query: a snapshot, or a resume after the last position applied. */
  private query(withToken: boolean): URLSearchParams {
    const query = new URLSearchParams();
    const events = this.options.heartbeats === false ? SERVICE_EVENTS : [...SERVICE_EVENTS, 'service_heartbeat'];
    query.set('events', events.join(','));
    if (this.filter.type !== undefined) query.set('type', this.filter.type);
    if (this.tags.length > 0) query.set('tags', this.tags.join(','));
    if (this.filter.name !== undefined) query.set('name', this.filter.name);
    if (this.ids.length > 0) query.set('service_id', this.ids.join(','));
    if (this.needSnapshot) query.set('snapshot', 'true');
    else query.set('since', String(this.position));
    if (withToken && this.connection.token) query.set('token', this.connection.token);
    return query;
  }

  private learnClock(timestamp: unknown): void {
    const at = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
    // A message's own time is a little before its arrival: within a second, the clocks agree.
    if (Number.isFinite(at)) {
      const offset = at - Date.now();
      this.clockOffsetMs = Math.abs(offset) < 1000 ? 0 : offset;
      this.pool = undefined;
    }
  }

  private receive(data: unknown): void {
    const text = messageText(data);
    if (text === undefined || text.length > this.maxMessageBytes) return;
    const message: unknown = JSON.parse(text);
    if (!isObject(message)) return;
    const { type } = message as Message;
    // Messages made as they are sent carry the gateway's clock: pick() judges `expires_at`
    // (the registry's clock) by it, so a client clock minutes off still picks live instances.
    if (type === 'connection_established' || type === 'snapshot' || type === 'pong') this.learnClock((message as Message).timestamp);
    if (type === 'connection_established') {
      if (!this.needSnapshot) this.caughtUp();
    } else if (type === 'snapshot') this.applySnapshot(message);
    else if (type === 'resync_required') {
      this.needSnapshot = true;
      this.abandonSocket();
      this.scheduleReconnect(0);
    } else if (type === 'service_heartbeat') this.applyRenewal(message);
    else if (typeof type === 'string' && (UPSERTS.has(type) || type === 'service_deregistered')) this.applyEvent(type, message);
  }

  private applySnapshot(message: Message): void {
    if (!isObject(message.data) || !Array.isArray(message.data.services)) return;
    const services = message.data.services.filter(isService);
    this.cache.clear();
    this.tombstones.clear();
    for (const service of services) this.cache.set(service.service_id, service);
    this.position = numberOr(message.seq, 0);
    this.resumable = false;
    const wasSynced = this.synced;
    this.synced = true;
    this.needSnapshot = false;
    this.caughtUp();
    this.emit({ kind: 'snapshot', services: [...services] });
    if (wasSynced) this.emitEvent('resync');
    this.settleReady?.resolve();
    this.settleReady = undefined;
  }

  /** Only changes newer than the record held apply (docs/realtime.md): replays and duplicates fall out here. */
  private applyEvent(type: string, message: Message): void {
    const data = message.data;
    if (!isObject(data)) return;
    if (typeof message.seq === 'number') {
      if (message.seq > this.position) this.resumable = true;
      this.position = Math.max(this.position, message.seq);
    }
    if (type === 'service_deregistered') {
      const id = typeof data.service_id === 'string' ? data.service_id : undefined;
      if (id === undefined) return;
      const revision = numberOr(message.revision, isService(data.service) ? data.service.revision : Infinity);
      this.remember(id, revision);
      const held = this.cache.get(id);
      if (!held || held.revision > revision) return;
      this.cache.delete(id);
      this.emit({ kind: 'remove', service_id: id, event: type });
      return;
    }
    const service = recordOf(type, data);
    if (!service) return;
    const held = this.cache.get(service.service_id);
    if (held && held.revision >= service.revision) return;
    const removedAt = this.tombstones.get(service.service_id);
    if (removedAt !== undefined && removedAt >= service.revision) return;
    if (!this.matches(service)) {
      // A service that left the filter: the gateway sends that change once, then nothing.
      if (held) {
        this.remember(service.service_id, service.revision);
        this.cache.delete(service.service_id);
        this.emit({ kind: 'remove', service_id: service.service_id, event: type });
      }
      return;
    }
    this.cache.set(service.service_id, service);
    this.emit({ kind: 'upsert', service, event: type });
  }

  /** A renewal moves `expires_at` (not kept in the stream: no seq); it changes nothing else. */
  private applyRenewal(message: Message): void {
    const data = message.data;
    if (!isObject(data) || typeof data.service_id !== 'string' || typeof data.expires_at !== 'string') return;
    const held = this.cache.get(data.service_id);
    if (!held || Date.parse(data.expires_at) <= Date.parse(held.expires_at)) return;
    const lastHeartbeat = typeof data.last_heartbeat === 'string' ? data.last_heartbeat : held.last_heartbeat;
    const renewed: Service = { ...held, expires_at: data.expires_at, last_heartbeat: lastHeartbeat };
    this.cache.set(held.service_id, renewed);
    this.emit({ kind: 'upsert', service: renewed, event: 'service_heartbeat' });
  }

  /**
   * The gateway's own test (matchesService in realtime-gateway): it also sends the change that
   * takes a service out of the filter, with the record that no longer matches, which this drops.
   */
  private matches(service: Service): boolean {
    const { type, name } = this.filter;
    if (type !== undefined && service.type !== type) return false;
    if (name !== undefined && service.name !== name) return false;
    if (this.ids.length > 0 && !this.ids.includes(service.service_id)) return false;
    return this.tags.every((tag) => service.tags.includes(tag));
  }

  private remember(id: string, revision: number): void {
    this.tombstones.delete(id);
    this.tombstones.set(id, revision);
    if (this.tombstones.size > TOMBSTONES_MAX) {
      const oldest = this.tombstones.keys().next();
      if (!oldest.done) this.tombstones.delete(oldest.value);
    }
  }

  /** In sync again (a snapshot, or a resume's greeting): the backoff starts over. */
  private caughtUp(): void {
    this.attempt = 0;
    this.setConnected(true);
  }

  private dropped(code: number): void {
    this.socket = undefined;
    this.stopPing();
    this.setConnected(false);
    // 1012: the stream was recreated, positions start over.
    if (code === 1012 || !this.synced || !this.resumable) this.needSnapshot = true;
    this.scheduleReconnect();
  }

  /** Leaves a socket for good (its handlers stay, as no-ops: `ws` throws on an 'error' nobody listens to). */
  private abandonSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.stopPing();
    this.setConnected(false);
    if (socket) void closeSocket(socket);
  }

  private scheduleReconnect(delayMs?: number): void {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    const max = this.options.reconnectMaxMs ?? 10_000;
    const base = Math.min(max, this.reconnectMinMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    // Half fixed, half random: clients dropped together (a gateway restart) do not return together.
    const delay = delayMs ?? base / 2 + (Math.random() * base) / 2;
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private startPing(socket: WebSocketLike): void {
    this.stopPing();
    const interval = this.options.pingIntervalMs ?? 20_000;
    this.pingTimer = setInterval(() => {
      if (this.socket !== socket) return;
      if (Date.now() - this.lastMessageAt > 2 * interval) {
        this.abandonSocket();
        this.dropped(4000);
        return;
      }
      try {
        if (socket.readyState === 1) socket.send('{"type":"ping"}');
      } catch {
        // the close event follows
      }
    }, interval);
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.emitEvent(connected ? 'connected' : 'disconnected');
  }

  private emit(change: WatchChange): void {
    this.pool = undefined;
    for (const listener of [...this.changeListeners]) {
      try {
        listener(change);
      } catch {
        // A listener's error is its own; the cache stays applied.
      }
    }
  }

  private emitEvent(event: WatchEvent): void {
    for (const listener of [...(this.eventListeners.get(event) ?? [])]) {
      try {
        listener();
      } catch {
        // as above
      }
    }
  }
}

/** The record an upsert event carries: `data` itself, or `data.service` (critical_load), without event-only fields. */
function recordOf(type: string, data: Record<string, unknown>): Service | undefined {
  if (type === 'critical_load') return isService(data.service) ? data.service : undefined;
  if (!isService(data)) return undefined;
  if (type !== 'health_status_changed') return data;
  const { previous_health: _previous, ...service } = data as Service & { previous_health?: unknown };
  return service;
}

/** Closes a socket and waits (briefly) for it to go: `ws` otherwise keeps a 30 s close timer. */
async function closeSocket(socket: WebSocketLike): Promise<void> {
  const terminate = (socket as { terminate?: () => void }).terminate;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(finish, CLOSE_WAIT_MS);
    function finish(): void {
      clearTimeout(timer);
      resolve();
    }
    socket.onmessage = () => undefined;
    socket.onerror = () => undefined;
    socket.onclose = finish;
    try {
      if (socket.readyState >= 2) finish();
      else socket.close(1000, 'closed by the client');
    } catch {
      finish();
    }
  });
  if (socket.readyState !== 3 && typeof terminate === 'function') terminate.call(socket);
}
