import type { Service } from '@beacon/contracts';
import { randomUUID } from 'node:crypto';

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: T;
}

export interface JsonRequestOptions {
  /** Sent verbatim instead of a JSON body (with `contentType` if given). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * One HTTP request as the suites make them: `json` (when defined) goes out as a JSON
 * body, and the answer comes back with its status, headers, text and parsed body.
 */
export async function fetchJson<T = Record<string, unknown>>(
  method: string,
  url: string,
  json?: unknown,
  options: JsonRequestOptions = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers['content-type'] = 'application/json';
  } else if (options.raw !== undefined) {
    body = options.raw;
    if (options.contentType) headers['content-type'] = options.contentType;
  }
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed as T };
}

/** A name no other test of this run uses. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/**
 * Registers a service with registry-api (`url` is the app's root, as `AppProcess.url`) and
 * insists on 201: most tests need a record, not the registration's details. A name and a
 * port are made up when the body has none, so parallel tests do not collide.
 */
export async function register<T = Service>(url: string, body: Record<string, unknown> = {}): Promise<T> {
  const response = await fetchJson<T>('POST', `${url}/api/v1/services/register`, {
    name: uniqueName('svc'),
    host: '10.0.0.1',
    port: 1 + Math.floor(Math.random() * 60000),
    ...body,
  });
  if (response.status !== 201) throw new Error(`register answered ${response.status}, not 201: ${response.text}`);
  return response.body;
}
