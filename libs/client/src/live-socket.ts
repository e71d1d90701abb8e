/**
 * The WebSocket a watch uses, whichever implementation the platform has: the browser's and
 * Node 22's `globalThis.WebSocket`, or the `ws` package (Node 20), loaded only when needed so
 * the root entry stays browser-safe. Only the event-handler properties every implementation
 * shares are used (`onopen`, `onmessage`, `onclose`, `onerror`).
 */

/** The part of a WebSocket a watch uses (browsers, undici and `ws` all have it). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor; `ws` takes a third argument (headers, maxPayload), the others ignore it. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: Record<string, unknown>) => WebSocketLike;

/** Which implementation: `ws` accepts headers and a message size cap; the others get the token in the query. */
export interface ResolvedWebSocket {
  WebSocket: WebSocketConstructor;
  kind: 'given' | 'global' | 'ws';
}

const isConstructor = (value: unknown): value is WebSocketConstructor => typeof value === 'function';

/** The one given, else `globalThis.WebSocket`, else the `ws` package (an optional peer dependency). */
export async function resolveWebSocket(given: unknown): Promise<ResolvedWebSocket> {
  if (given !== undefined) {
    if (!isConstructor(given)) throw new TypeError('options.WebSocket must be a WebSocket constructor');
    return { WebSocket: given, kind: 'given' };
  }
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (isConstructor(global)) return { WebSocket: global, kind: 'global' };
  // A specifier in a variable: bundlers for the browser leave it alone (browsers have globalThis.WebSocket).
  const specifier = 'ws';
  let loaded: unknown;
  try {
    loaded = await import(specifier);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(
      `watch() needs a WebSocket: this runtime has no globalThis.WebSocket and the "ws" package is not installed (npm install ws) — ${cause}`,
      { cause: error },
    );
  }
  const module = loaded as { WebSocket?: unknown; default?: unknown };
  const ctor = module.WebSocket ?? module.default;
  if (!isConstructor(ctor)) throw new Error('the "ws" package did not export a WebSocket constructor');
  return { WebSocket: ctor, kind: 'ws' };
}

/** `http(s)://host[/prefix]` → `ws(s)://host[/prefix]/api/v1/ws?<query>`. */
export function liveUrl(base: string, query: URLSearchParams): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/ws`;
  url.search = query.toString();
  url.hash = '';
  return url.toString();
}

/** A message's text: strings as they come; binary frames decoded as UTF-8; anything else undefined. */
export function messageText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    try {
      return new TextDecoder().decode(data);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
