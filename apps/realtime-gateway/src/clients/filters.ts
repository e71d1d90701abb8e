import { DEFAULT_LIVE_EVENT_TYPES, LIMITS, LIVE_EVENT_TYPES, type LiveEventType } from '@beacon/contracts';
import type { Outgoing } from '../feed/outgoing';
import type { ServiceScope } from '../feed/service-scopes';

/** What one client wants to receive. */
export interface ClientFilters {
  events: ReadonlySet<LiveEventType>;
  type?: string;
  /** All of these. */
  tags: readonly string[];
  name?: string;
  serviceIds?: ReadonlySet<string>;
}

/** How a client connected: its filters and where its stream starts. */
export interface ConnectOptions {
  filters: ClientFilters;
  snapshot: boolean;
  /** Replay every event after this stream position. */
  since: number | null;
  token: string | null;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const PARAMETERS = new Set(['events', 'type', 'tags', 'name', 'service_id', 'snapshot', 'since', 'token']);
const SEQUENCE = /^\d{1,15}$/;

const list = (values: string[]): string[] =>
  values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);

function single(params: URLSearchParams, name: string, errors: string[]): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) errors.push(`${name} must be given once`);
  return values[0];
}

function text(value: string | undefined, name: string, max: number, errors: string[]): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > max) errors.push(`${name} must be 1–${max} characters`);
  return value;
}

/** Filters from plain values (query parameters or a subscribe message), with an error per bad one. */
function buildFilters(
  input: { events?: string[]; type?: string; tags?: string[]; name?: string; serviceIds?: string[] },
  errors: string[],
): ClientFilters {
  let events: ReadonlySet<LiveEventType> = new Set(DEFAULT_LIVE_EVENT_TYPES);
  if (input.events !== undefined) {
    const unknown = input.events.filter((event) => !(LIVE_EVENT_TYPES as readonly string[]).includes(event));
    if (unknown.length > 0) errors.push(`events: unknown type(s) ${unknown.join(', ')}; known: ${LIVE_EVENT_TYPES.join(', ')}`);
    if (input.events.length === 0) errors.push('events must name at least one type');
    events = new Set(input.events.filter((event): event is LiveEventType => (LIVE_EVENT_TYPES as readonly string[]).includes(event)));
  }
  const tags = input.tags ?? [];
  if (tags.some((tag) => tag.length > LIMITS.tags.maxLength)) errors.push(`tags must be at most ${LIMITS.tags.maxLength} characters each`);
  if (tags.length > LIMITS.tags.maxCount) errors.push(`at most ${LIMITS.tags.maxCount} tags`);
  const filters: ClientFilters = {
    events,
    tags,
    type: text(input.type, 'type', LIMITS.type.max, errors),
    name: text(input.name, 'name', LIMITS.name.max, errors),
  };
  if (input.serviceIds !== undefined) {
    if (input.serviceIds.length > 1000) errors.push('at most 1000 service_id values');
    filters.serviceIds = new Set(input.serviceIds);
  }
  return filters;
}

/** The query string of `/api/v1/ws` or `/api/v1/events`; `lastEventId` is SSE's header. */
export function parseConnectParams(params: URLSearchParams, lastEventId?: string): Parsed<ConnectOptions> {
  const errors: string[] = [];
  for (const key of new Set(params.keys())) {
    if (!PARAMETERS.has(key)) errors.push(`unknown parameter ${key}; accepted: ${[...PARAMETERS].join(', ')}`);
  }
  const events = params.has('events') ? list(params.getAll('events')) : undefined;
  const filters = buildFilters(
    {
      events,
      type: single(params, 'type', errors),
      tags: list(params.getAll('tags')),
      name: single(params, 'name', errors),
      serviceIds: params.has('service_id') ? list(params.getAll('service_id')) : undefined,
    },
    errors,
  );
  const snapshotValue = single(params, 'snapshot', errors);
  if (snapshotValue !== undefined && !['true', 'false', '1', '0'].includes(snapshotValue)) errors.push('snapshot must be true or false');
  const sinceValue = single(params, 'since', errors) ?? lastEventId;
  if (sinceValue !== undefined && !SEQUENCE.test(sinceValue))
    errors.push(`since must be a stream position (a whole number), got "${sinceValue.slice(0, 40)}"`);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      filters,
      snapshot: snapshotValue === 'true' || snapshotValue === '1',
      since: sinceValue === undefined ? null : Number(sinceValue),
      token: params.get('token'),
    },
  };
}

const stringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** `{"type": "subscribe", "events": [...], "filters": {type, tags, name, service_id}}` from a WebSocket client. */
export function parseSubscribe(message: Record<string, unknown>): Parsed<ClientFilters> {
  const errors: string[] = [];
  const filters = (message.filters ?? {}) as Record<string, unknown>;
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters))
    return { ok: false, errors: ['filters must be an object'] };
  for (const key of Object.keys(filters)) {
    if (!['type', 'tags', 'name', 'service_id'].includes(key)) errors.push(`unknown filter ${key}; accepted: type, tags, name, service_id`);
  }
  const optionalText = (value: unknown, name: string): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') errors.push(`${name} must be a string`);
    return typeof value === 'string' ? value : undefined;
  };
  const optionalList = (value: unknown, name: string): string[] | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'string') return list([value]);
    if (!stringList(value)) {
      errors.push(`${name} must be a list of strings`);
      return undefined;
    }
    return value;
  };
  const built = buildFilters(
    {
      events: optionalList(message.events, 'events'),
      type: optionalText(filters.type, 'type'),
      tags: optionalList(filters.tags, 'tags'),
      name: optionalText(filters.name, 'name'),
      serviceIds: optionalList(filters.service_id, 'service_id'),
    },
    errors,
  );
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: built };
}

/** Whether a service passes the service filters (type, tags, name, service_id). */
export function matchesService(filters: ClientFilters, service: Omit<ServiceScope, 'revision'>): boolean {
  if (filters.type !== undefined && service.type !== filters.type) return false;
  if (filters.name !== undefined && service.name !== filters.name) return false;
  if (filters.serviceIds && !filters.serviceIds.has(service.service_id)) return false;
  for (const tag of filters.tags) if (!service.tags.includes(tag)) return false;
  return true;
}

/**
 * Whether a client wants an event: its type, and for service events the service filters,
 * met by the new record or by the version before it (the change that takes a service out of
 * the client's filters is sent once, with the record that no longer matches: the client drops it;
 * so is a change whose version before the gateway cannot tell, as the client may hold it).
 */
export function wants(filters: ClientFilters, event: Outgoing): boolean {
  if (!filters.events.has(event.type)) return false;
  if (event.service === null || matchesService(filters, event.service)) return true;
  if (event.previous === 'unknown') return true;
  return event.previous !== null && matchesService(filters, event.previous);
}

/** The filters as the greeting and `subscribed` show them. */
export function describeFilters(filters: ClientFilters): Record<string, unknown> {
  return {
    events: [...filters.events],
    ...(filters.type !== undefined ? { type: filters.type } : {}),
    ...(filters.tags.length > 0 ? { tags: filters.tags } : {}),
    ...(filters.name !== undefined ? { name: filters.name } : {}),
    ...(filters.serviceIds ? { service_id: [...filters.serviceIds] } : {}),
  };
}
