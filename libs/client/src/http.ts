import { BeaconError, codeForStatus } from './errors';

/** A query value: lists are comma-joined (`tags=a,b`), a map becomes `<key>.<k>=<v>` (`metadata.rack=r1`). */
export type QueryValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>> | null | undefined;
export type Query = Readonly<Record<string, QueryValue>>;

export interface HttpOptions {
  /** Base URL, normalized (no trailing slash). */
  url: string;
  token?: string;
  timeoutMs: number;
  fetch: typeof fetch;
  /** An answer's body may be at most this many bytes (a larger one is refused, not buffered). */
  maxResponseBytes: number;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** `json` (default): the answer must be a JSON body; `none`: the body is ignored (204). */
  expect?: 'json' | 'none';
  /** A shorter timeout for this request than the client's (a longer one is ignored). */
  timeoutMs?: number;
}

/** `?a=1&tags=x,y&metadata.k=v`, or '' when nothing is set. Undefined and null values are left out. */
export function buildQuery(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      params.append(key, String(value));
    } else if (isStringList(value)) {
      if (value.length > 0) params.append(key, value.join(','));
    } else {
      for (const [mapKey, mapValue] of Object.entries(value)) params.append(`${key}.${mapKey}`, mapValue);
    }
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function isStringList(value: QueryValue): value is readonly string[] {
  return Array.isArray(value);
}

/** Removes trailing slashes: `http://h:8097/` → `http://h:8097`. */
export function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * One HTTP exchange with Beacon's REST API: bearer token, JSON in and out, a per-request
 * timeout. Every failure becomes a `BeaconError` (a non-2xx carries the server's `detail`).
 */
export class HttpClient {
  constructor(private readonly options: HttpOptions) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const target = `${path}${buildQuery(options.query)}`;
    const url = `${this.options.url}${target}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(options.body);
    }
    const timeoutMs = Math.min(options.timeoutMs ?? Infinity, this.options.timeoutMs);
    const fail = (init: { code: BeaconError['code']; status: number; detail: string; body?: unknown; cause?: unknown }): BeaconError =>
      new BeaconError({ ...init, method, path: target });

    if (headers.authorization !== undefined && !isHeaderValue(headers.authorization))
      throw fail({
        code: 'bad_request',
        status: 0,
        detail:
          'the token cannot be sent as a header: it holds a line break, a control character or a character past U+00FF (BEACON_TOKEN or the token option)',
      });

    let response: Response;
    try {
      response = await this.options.fetch(url, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
        // The API never redirects: following one would turn a POST into a GET elsewhere (302/303)
        // and take that answer as the result, or send a DELETE where it was not meant to go.
        redirect: 'manual',
      });
    } catch (error) {
      throw fail({ code: 'network', status: 0, detail: networkDetail(error, url, timeoutMs), cause: error });
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get('location');
      throw fail({
        code: 'protocol',
        status: response.status,
        detail: `${method} ${url} answered a redirect${location ? ` to ${new URL(location, url).href}` : ''}: the SDK does not follow redirects, set its url to where Beacon answers`,
      });
    }
    const limit = this.options.maxResponseBytes;
    let text: string | undefined;
    try {
      text = await readText(response, limit);
    } catch (error) {
      throw fail({ code: 'network', status: 0, detail: networkDetail(error, url, timeoutMs), cause: error });
    }
    if (text === undefined)
      throw fail({
        code: 'protocol',
        status: response.status,
        detail: `${method} ${url} answered HTTP ${response.status} with a body larger than ${limit} bytes (the client's maxResponseBytes)`,
      });

    const parsed = parseJson(text);
    if (!response.ok) {
      const detail =
        detailOf(parsed) ?? `${method} ${url} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      throw fail({ code: codeForStatus(response.status), status: response.status, detail, body: parsed.ok ? parsed.value : text });
    }
    if (options.expect === 'none') return undefined as T;
    if (!parsed.ok) {
      const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
      throw fail({
        code: 'protocol',
        status: response.status,
        detail: `${method} ${url} answered HTTP ${response.status} with a body that is not JSON: ${JSON.stringify(shown)}`,
        body: text,
      });
    }
    return parsed.value as T;
  }
}

/**
 * Whether `value` can be sent as a header value: fetch trims the whitespace around it, and
 * refuses a line break, NUL or a character past U+00FF inside it (as "fetch failed").
 */
function isHeaderValue(value: string): boolean {
  return !/[^\t\x20-\xff]/.test(value.trim());
}

/**
 * The body as text, or undefined once it passes `limit` bytes (declared or read): the rest is
 * not read, and the connection is let go.
 */
async function readText(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string): Parsed {
  if (text === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function detailOf(parsed: Parsed): string | undefined {
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return undefined;
  const detail = (parsed.value as { detail?: unknown }).detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail) || (typeof detail === 'object' && detail !== null)) return JSON.stringify(detail);
  return undefined;
}

/** A sentence naming the URL and why nothing answered (fetch's own message is "fetch failed"). */
function networkDetail(error: unknown, url: string, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return `Beacon at ${url} did not answer within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return `could not reach Beacon at ${url}: ${reason}`;
}
