// Where the REST API is and how to authenticate. A `?token=` in the page's URL is traded
// once for an HttpOnly session cookie (POST /api/v1/session, docs/realtime.md) and taken
// out of the address bar, so it stays out of history, bookmarks and Referer headers, and
// the WebSocket needs no token in its URL. REST calls may go to another origin
// (BEACON_PUBLIC_API_URL), where the cookie does not go: for them the token is kept in
// memory and sent as a bearer token.

const config = window.BEACON_CONFIG ?? {};

/** registry-api's base URL, or '' when it is served from this page's origin. */
export const apiBase = typeof config.apiBase === 'string' ? config.apiBase.replace(/\/+$/, '') : '';
export const authRequired = config.authRequired === true;
export const token = takeTokenFromUrl();
/**
 * Whether the page may offer write actions (check now, deregister, acknowledge, resolve):
 * with the token it was opened with, or when this deployment needs none. registry-api
 * still decides; a 401/403 is shown, never hidden.
 */
export const canAct = token !== '' || !authRequired;

function takeTokenFromUrl() {
  const url = new URL(location.href);
  const value = url.searchParams.get('token') || '';
  if (value) {
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url);
  }
  return value;
}

/**
 * Trades the URL's token for the session cookie. Resolves true when the cookie now carries
 * it; false when there was no token or the gateway would not take it (the feed then falls
 * back to `?token=`, which the gateway still accepts).
 */
export async function openSession() {
  if (!token) return false;
  try {
    const response = await fetch('/api/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail ? `${status}: ${detail}` : `HTTP ${status}`);
    this.status = status;
  }
}

/** GET `${apiBase}/api/v1${path}` as JSON; throws ApiError with the body's `detail` on a non-2xx. */
export function getJson(path, { signal } = {}) {
  return request('GET', path, { signal });
}

/** A write to registry-api: JSON in and out (null for 204). Throws ApiError like getJson. */
export function sendJson(method, path, body) {
  return request(method, path, { body });
}

async function request(method, path, { signal, body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${apiBase}/api/v1${path}`, {
    method,
    headers,
    signal,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = '';
    try {
      detail = (await response.json()).detail ?? '';
    } catch {
      // Not JSON: the status says enough.
    }
    throw new ApiError(response.status, typeof detail === 'string' ? detail : '');
  }
  return response.status === 204 ? null : response.json();
}

/** A short reason for a failed call, for the page's status lines. */
export function failure(error) {
  if (error instanceof ApiError) {
    if (error.status === 401 || error.status === 403) return `${error.message} (a token is needed: open the page with ?token=<token>)`;
    return error.message;
  }
  // fetch() rejects with a TypeError when nothing answered or the browser refused the
  // cross-origin request (CORS); the page cannot tell which, the console can.
  if (error instanceof TypeError) return `registry-api did not answer, or refused this cross-origin request (${error.message})`;
  return error instanceof Error ? error.message : 'network error';
}
