import type {
  DiscoverResponse,
  HealthChecksResponse,
  HeartbeatResponse,
  Incident,
  IncidentKind,
  IncidentList,
  PingsResponse,
  ProbeResult,
  RegisterServiceDto,
  RegistryHealthResponse,
  RegistryStatsResponse,
  Service,
  ServiceListResponse,
  UpdateServiceDto,
  UptimeResponse,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookFormat,
  WebhookList,
} from '@beacon/contracts';
import { BeaconError } from './errors';
import { HttpClient, normalizeUrl, type Query } from './http';
import { Registration, type RegisterOptions } from './registration';
import { Watch, type WatchFilter, type WatchOptions } from './watch';

/** The body of `POST /api/v1/services/register` as a plain object type. */
export type RegisterRequest = { [K in keyof RegisterServiceDto]: RegisterServiceDto[K] };
/** The body of `PUT /api/v1/services/{id}`: the fields to change (`null` clears an optional one). */
export type UpdateRequest = { [K in keyof UpdateServiceDto]: UpdateServiceDto[K] };

/**
 * Any WebSocket class: the browser's, Node 22's, undici's or the `ws` package's (their event
 * types differ, so only the constructor's shape is required here; `watch()` checks the rest).
 */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => object;

export interface BeaconOptions {
  /** Default: `BEACON_URL` when `process` exists, else `http://localhost:8097`. */
  url?: string;
  /** Default: `BEACON_TOKEN` when `process` exists; sent as `Authorization: Bearer`. */
  token?: string;
  /** Per request; default 10 000. */
  timeoutMs?: number;
  /** The largest answer body read, in bytes; a larger one is a `protocol` error. Default 64 MiB. */
  maxResponseBytes?: number;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Default `globalThis.WebSocket`, else the `ws` package loaded lazily (Node 20). */
  WebSocket?: WebSocketClass;
}

/** Filters of the list and discover calls: every field must match (tags: all of them). */
export interface ServiceFilter {
  type?: string;
  tags?: string[];
  status?: string;
  health?: string;
  name?: string;
  protocol?: string;
  version?: string;
  node_id?: string;
  metadata?: Record<string, string>;
}

export interface IncidentQuery {
  status?: 'open' | 'resolved';
  service_id?: string;
  kind?: IncidentKind;
  since?: string;
  limit?: number;
  skip?: number;
}

/** A webhook definition (`POST /api/v1/webhooks`); `events` lists event types, or `['*']`. */
export interface WebhookCreate {
  url: string;
  events: string[];
  format?: WebhookFormat;
  secret?: string | null;
  service_id?: string | null;
  type?: string | null;
  tags?: string[] | null;
  description?: string | null;
  enabled?: boolean;
}

export const DEFAULT_URL = 'http://localhost:8097';
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const SERVICES = '/api/v1/services';
const INCIDENTS = '/api/v1/incidents';
const WEBHOOKS = '/api/v1/webhooks';

function env(name: string): string | undefined {
  if (typeof process === 'undefined' || typeof process.env !== 'object') return undefined;
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function filterQuery(filter: ServiceFilter = {}): Query {
  const { type, tags, status, health, name, protocol, version, node_id, metadata } = filter;
  return { type, tags, status, health, name, protocol, version, node_id, metadata };
}

const id$ = encodeURIComponent;

/** The longest timer `AbortSignal.timeout` takes. */
const MAX_TIMEOUT_MS = 4_294_967_295;

/**
 * `value` when it is a whole number from 1 to `max`; else a RangeError naming the option (a bad
 * one failed every call later as a misleading `network` error, or turned the cap off).
 */
function wholeNumber(option: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new RangeError(`${option} must be a whole number from 1 to ${max}, not ${String(value)}`);
  return value;
}

function isHealthBody(body: unknown): body is RegistryHealthResponse {
  return typeof body === 'object' && body !== null && (body as { status?: unknown }).status === 'unhealthy' && 'database' in body;
}

/**
 * Beacon's REST API, typed: the catalog, registration with keep-alive, incidents, webhooks,
 * and a live `watch()` of the catalog. Every failure is a `BeaconError`.
 */
export class Beacon {
  /** Normalized: no trailing slash. */
  readonly url: string;
  readonly incidents: {
    list(query?: IncidentQuery): Promise<IncidentList>;
    get(id: string): Promise<Incident>;
    resolve(id: string, note?: string): Promise<Incident>;
    acknowledge(id: string, note?: string): Promise<Incident>;
  };
  readonly webhooks: {
    list(query?: { limit?: number; skip?: number }): Promise<WebhookList>;
    create(body: WebhookCreate): Promise<Webhook>;
    get(id: string): Promise<Webhook>;
    /** PUT replaces the whole definition: fields not given are kept from the current one (the secret too). */
    update(id: string, body: Partial<WebhookCreate>): Promise<Webhook>;
    remove(id: string): Promise<void>;
    /** Sends a sample now; the answer is that delivery. */
    test(id: string): Promise<WebhookDelivery>;
    deliveries(id: string, query?: { limit?: number; status?: string }): Promise<WebhookDeliveryList>;
  };

  private readonly http: HttpClient;
  private readonly token: string | undefined;
  private readonly WebSocketClass: WebSocketClass | undefined;

  constructor(options: BeaconOptions = {}) {
    const timeoutMs = wholeNumber('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
    const maxResponseBytes = wholeNumber(
      'maxResponseBytes',
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      Number.MAX_SAFE_INTEGER,
    );
    this.url = normalizeUrl(options.url ?? env('BEACON_URL') ?? DEFAULT_URL);
    this.token = options.token ?? env('BEACON_TOKEN');
    this.WebSocketClass = options.WebSocket;
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.http = new HttpClient({
      url: this.url,
      token: this.token,
      timeoutMs,
      maxResponseBytes,
      fetch: fetchImpl,
    });
    const http = this.http;

    this.incidents = {
      list: (query = {}) => http.request('GET', INCIDENTS, { query: { ...query } }),
      get: (id) => http.request('GET', `${INCIDENTS}/${id$(id)}`),
      resolve: (id, note) => http.request('POST', `${INCIDENTS}/${id$(id)}/resolve`, { body: note === undefined ? {} : { note } }),
      acknowledge: (id, note) => http.request('POST', `${INCIDENTS}/${id$(id)}/acknowledge`, { body: note === undefined ? {} : { note } }),
    };

    this.webhooks = {
      list: (query = {}) => http.request('GET', WEBHOOKS, { query: { ...query } }),
      create: (body) => http.request('POST', WEBHOOKS, { body }),
      get: (id) => http.request('GET', `${WEBHOOKS}/${id$(id)}`),
      update: async (id, body) => {
        const current = await http.request<Webhook>('GET', `${WEBHOOKS}/${id$(id)}`);
        const { url, events, format, service_id, type, tags, description, enabled } = current;
        const whole: WebhookCreate = { url, events, format, service_id, type, tags, description, enabled, ...body };
        return http.request('PUT', `${WEBHOOKS}/${id$(id)}`, { body: whole });
      },
      remove: (id) => http.request('DELETE', `${WEBHOOKS}/${id$(id)}`, { expect: 'none' }),
      test: (id) => http.request('POST', `${WEBHOOKS}/${id$(id)}/test`),
      deliveries: (id, query = {}) => http.request('GET', `${WEBHOOKS}/${id$(id)}/deliveries`, { query: { ...query } }),
    };
  }

  list(filter: ServiceFilter & { limit?: number; skip?: number } = {}): Promise<ServiceListResponse> {
    return this.http.request('GET', SERVICES, { query: { ...filterQuery(filter), limit: filter.limit, skip: filter.skip } });
  }

  /** Active services (unless `status` says otherwise) matching the filter. */
  async discover(filter: ServiceFilter = {}): Promise<Service[]> {
    const answer = await this.http.request<DiscoverResponse>('GET', `${SERVICES}/discover`, { query: filterQuery(filter) });
    return answer.services;
  }

  get(id: string): Promise<Service> {
    return this.http.request('GET', `${SERVICES}/${id$(id)}`);
  }

  /** Registers (or re-registers: same name+host+port is the same service) and keeps nothing alive. */
  registerOnce(body: RegisterRequest): Promise<Service> {
    return this.http.request('POST', `${SERVICES}/register`, { body });
  }

  /** Registers and returns a handle; with `keepAlive` it heartbeats until `close()`. */
  register(body: RegisterRequest, options: RegisterOptions = {}): Promise<Registration> {
    return Registration.start(this, body, options);
  }

  update(id: string, patch: UpdateRequest): Promise<Service> {
    return this.http.request('PUT', `${SERVICES}/${id$(id)}`, { body: patch });
  }

  deregister(id: string): Promise<void> {
    return this.http.request('DELETE', `${SERVICES}/${id$(id)}`, { expect: 'none' });
  }

  /**
   * 404 → `not_found` (unknown, or expired and purged); 410 → `gone` (deleted by an operator).
   * `options.timeoutMs` shortens the client's timeout for this call (keep-alive gives up at its cadence).
   */
  heartbeat(id: string, ttl?: number, options: { timeoutMs?: number } = {}): Promise<HeartbeatResponse> {
    return this.http.request('PUT', `${SERVICES}/${id$(id)}/heartbeat`, { query: { ttl }, timeoutMs: options.timeoutMs });
  }

  /** Checks the service now. */
  check(id: string): Promise<{ result: ProbeResult; service: Service }> {
    return this.http.request('POST', `${SERVICES}/${id$(id)}/health-check`);
  }

  checks(id: string, limit?: number): Promise<HealthChecksResponse> {
    return this.http.request('GET', `${SERVICES}/${id$(id)}/health-checks`, { query: { limit } });
  }

  uptime(id: string, range: { from?: string; to?: string } = {}): Promise<UptimeResponse> {
    return this.http.request('GET', `${SERVICES}/${id$(id)}/uptime`, { query: { from: range.from, to: range.to } });
  }

  pings(id: string, limit?: number): Promise<PingsResponse> {
    return this.http.request('GET', `${SERVICES}/${id$(id)}/pings`, { query: { limit } });
  }

  stats(): Promise<RegistryStatsResponse> {
    return this.http.request('GET', '/api/v1/stats');
  }

  /** Beacon's own health; a 503 (`unhealthy`) still answers with its body. */
  async health(): Promise<RegistryHealthResponse> {
    try {
      return await this.http.request<RegistryHealthResponse>('GET', '/api/v1/health');
    } catch (error) {
      if (error instanceof BeaconError && error.status === 503 && isHealthBody(error.body)) return error.body;
      throw error;
    }
  }

  /** A live catalog kept current over the WebSocket. */
  watch(filter: WatchFilter = {}, options: WatchOptions = {}): Watch {
    return new Watch({ url: this.url, token: this.token, WebSocket: this.WebSocketClass }, filter, options);
  }
}
