/**
 * The dashboard's token as a cookie. A browser cannot put an `Authorization` header on a
 * WebSocket, and a `?token=` URL ends up in history, bookmarks and proxy logs; so the page
 * trades the token once (`POST /api/v1/session` on realtime-gateway) for this cookie:
 * HttpOnly (no script reads it back) and SameSite=Strict (no other site's page sends it).
 * Cookies ignore ports, so another local port is "same site": the gateway's Origin check,
 * not SameSite, is what refuses such a page.
 */
export const SESSION_COOKIE = 'beacon_token';

/** The session cookie's value in a `Cookie` header, or undefined. */
export function sessionToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join('; ') : header;
  if (!value) return undefined;
  for (const pair of value.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== SESSION_COOKIE) continue;
    const raw = pair.slice(at + 1).trim();
    try {
      return decodeURIComponent(raw) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Attributes shared by setting and clearing: both must name the same cookie. */
function attributes(secure: boolean): string {
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** `Set-Cookie` for a session holding `token`; it ends with the browser session. */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; ${attributes(secure)}`;
}

/** `Set-Cookie` that removes the session. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Max-Age=0; ${attributes(secure)}`;
}
