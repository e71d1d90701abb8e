// Where the REST API is and how to authenticate, from the gateway's /config.js and the
// page's own URL (`?token=`, passed on to every call: docs/realtime.md).

const config = window.BEACON_CONFIG ?? {};

/** registry-api's base URL, or '' when it is served from this page's origin. */
export const apiBase = typeof config.apiBase === 'string' ? config.apiBase.replace(/\/+$/, '') : '';
export const authRequired = config.authRequired === true;
export const token = new URLSearchParams(location.search).get('token') || '';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail ? `${status}: ${detail}` : `HTTP ${status}`);
    this.status = status;
  }
}

/** GET `${apiBase}/api/v1${path}` as JSON; throws ApiError with the body's `detail` on a non-2xx. */
export async function getJson(path, { signal } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${apiBase}/api/v1${path}`, { headers, signal });
  if (!response.ok) {
    let detail = '';
    try {
      detail = (await response.json()).detail ?? '';
    } catch {
      // Not JSON: the status says enough.
    }
    throw new ApiError(response.status, typeof detail === 'string' ? detail : '');
  }
  return response.json();
}
