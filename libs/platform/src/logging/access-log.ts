import type { Logger } from 'pino';

/** What replaces a secret in a log line: says something was there, never what. */
export const REDACTED = '[REDACTED]';

/** Query parameters that carry credentials (the gateway's `?token=`, seed clients' `access_token`). */
const SECRET_PARAMS = new Set(['token', 'access_token', 'auth', 'authorization']);

/** Headers that carry credentials, in requests and responses. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

const PARAM = /([?&])([^=&#]*)=([^&#]*)/g;

/**
 * A request URL with the values of credential-bearing query parameters replaced. Done on
 * the text rather than through `URL`, so the rest of the line stays byte for byte what the
 * client sent (an odd encoding is often the thing being debugged).
 */
export function redactUrl(url: string): string {
  return url.replace(PARAM, (whole, separator: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A malformed escape is not one of our names; compare it as written.
    }
    return SECRET_PARAMS.has(decoded.trim().toLowerCase()) ? `${separator}${name}=${REDACTED}` : whole;
  });
}

/** A copy of a header map with credential-bearing headers replaced. */
export function redactHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return headers;
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) copy[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : value;
  return copy;
}

/** A serialized request (pino-std-serializers' shape) as the access log may show it. */
function safeRequest(request: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = { ...request, headers: redactHeaders(request.headers as Record<string, unknown> | undefined) };
  if (typeof request.url === 'string') safe.url = redactUrl(request.url);
  if (request.query && typeof request.query === 'object') {
    safe.query = Object.fromEntries(
      Object.entries(request.query as Record<string, unknown>).map(([name, value]) => [
        name,
        SECRET_PARAMS.has(name.toLowerCase()) ? REDACTED : value,
      ]),
    );
  }
  return safe;
}

function safeResponse(response: Record<string, unknown>): Record<string, unknown> {
  return { ...response, headers: redactHeaders(response.headers as Record<string, unknown> | undefined) };
}

/**
 * pino-http's options for `LOG_HTTP=true`: bearer tokens, cookies and `?token=` never reach
 * the access log. The root logger's `redact` covers the same headers in any other line.
 */
export function accessLogOptions(logger: Logger): {
  logger: Logger;
  quietReqLogger: boolean;
  serializers: Record<string, (value: Record<string, unknown>) => unknown>;
} {
  return { logger, quietReqLogger: true, serializers: { req: safeRequest, res: safeResponse } };
}
