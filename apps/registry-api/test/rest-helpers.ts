import { fetchJson, type JsonResponse } from '@beacon/testing';
import { expect } from 'vitest';

/**
 * Small HTTP helpers for the REST suite. The wire types below are written from
 * the original Beacon's documented shapes (seed 000 in docs/compatibility.md), not imported from the app, so a drift in the app's own
 * types cannot hide a drift from the contract.
 */

/** The original Beacon's service object (plus Beacon's additions the suite checks). */
export interface WireService {
  service_id: string;
  name: string;
  type: string;
  host: string;
  port: number;
  protocol: string;
  tags: string[];
  metadata: Record<string, string>;
  status: string;
  ttl: number;
  expires_at: string;
  last_heartbeat: string | null;
  created_at: string;
  updated_at: string;
  health_check_url: string | null;
  health_check_interval: number;
  health_check_timeout: number;
  health_check_retries: number;
  last_health_check: string | null;
  consecutive_health_failures: number;
  mdns_service_type: string;
  version: string | null;
  node_id: string | null;
  instance_id: string | null;
  health: string;
  revision: number;
}

export interface WireList {
  services: WireService[];
  total: number;
  page: number;
  page_size: number;
}

export interface WireDiscover {
  services: WireService[];
  total: number;
  filters_applied: Record<string, string>;
  discovery_method: string;
}

export interface WireHeartbeat {
  service_id: string;
  status: string;
  expires_at: string;
  last_heartbeat: string;
  message: string;
}

export interface WireError {
  detail: string;
  errors?: { field: string; message: string }[];
}

/** The answer: status, headers, text and the parsed JSON body (undefined when empty or not JSON). */
export type HttpResult = JsonResponse<unknown>;

export interface CallOptions {
  /** Sent as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent verbatim (with `contentType` if given). */
  raw?: string;
  contentType?: string;
  /** Overrides the client's token; null sends no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
}

export class Client {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null = null,
  ) {}

  withToken(token: string | null): Client {
    return new Client(this.baseUrl, token);
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return fetchJson<unknown>(method, `${this.baseUrl}${path}`, options.json, {
      raw: options.raw,
      contentType: options.contentType,
      headers,
    });
  }

  /** Registers and insists on 201: most tests need a record, not the registration's details. */
  async register(body: Record<string, unknown>): Promise<WireService> {
    const result = await this.call('POST', '/api/v1/services/register', { json: body });
    expect(result.status, result.text).toBe(201);
    return result.body as WireService;
  }

  async getService(id: string): Promise<WireService> {
    const result = await this.call('GET', `/api/v1/services/${id}`);
    expect(result.status, result.text).toBe(200);
    return result.body as WireService;
  }

  async list(query = ''): Promise<WireList> {
    const result = await this.call('GET', `/api/v1/services${query}`);
    expect(result.status, result.text).toBe(200);
    return result.body as WireList;
  }

  /** How many services match a query (one request, one record of payload). */
  async count(query = ''): Promise<number> {
    const separator = query.length > 0 ? '&' : '?';
    return (await this.list(`${query}${separator}limit=1`)).total;
  }
}

/** Asserts an error status and a `detail` that mentions every fragment (case-insensitive). */
export function expectError(result: HttpResult, status: number, ...fragments: string[]): WireError {
  expect(result.status, result.text).toBe(status);
  const body = result.body as WireError;
  expect(typeof body?.detail, result.text).toBe('string');
  for (const fragment of fragments) expect(body.detail.toLowerCase(), result.text).toContain(fragment.toLowerCase());
  return body;
}

export const ids = (services: readonly WireService[]): string[] => services.map((service) => service.service_id).sort();

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

export const ms = (iso: string | null): number => {
  expect(iso).toMatch(ISO_UTC);
  return Date.parse(iso as string);
};

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random JSON value of a shape that is likely to trip a validator. */
export function randomJson(random: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const kind = Math.floor(random() * (depth > 2 ? 6 : 9));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return pick([0, -1, 1, 80.5, 65536, 1e308, -1e308, 2 ** 53 + 1, 86401, 9, 10, 300]);
    case 3:
      return pick(['', ' ', 'x', '8080', '-5', '1e3', '$ne', 'a,b', 'http://x', 'javascript:alert(1)', '\u0000', 'ü'.repeat(300)]);
    case 4:
      return 'r'.repeat(Math.floor(random() * 3000));
    case 5:
      return pick(['__proto__', 'constructor', 'NaN', '{}', '[]', '0x10', '١٢٣']);
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
    case 7:
      return { [pick(['$ne', '$gt', 'a', 'b.c', '$where', 'x'])]: randomJson(random, depth + 1) };
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, (_, i) => [`k${i}`, randomJson(random, depth + 1)]));
  }
}
