import type { WebhookFormat } from '@beacon/contracts';

/** What stands in for a secret part of a URL in what the API shows. */
export const MASK = '***';

/** Formats whose URL path ends in a token that is the credential (Slack and Discord incoming webhooks). */
const TOKEN_PATH_FORMATS: ReadonlySet<WebhookFormat> = new Set(['slack', 'discord']);

/** A URL as Beacon stores it: WHATWG-normalised (the deliverer connects to exactly this). */
export function normalizeUrl(text: string): string {
  return new URL(text).href;
}

/**
 * A path segment that reads like a credential: 20 or more letters, digits, `-` or `_`, with
 * both letters and digits (Discord's token before its `/slack` or `/github` suffix, a
 * Mattermost or Teams hook key, a secret ntfy topic), not a word such as `beacon-alerts`.
 */
const TOKEN_LIKE = /^(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[\w-]{20,}$/;

/**
 * A webhook URL as the API shows it: the user info's password (or a user name alone, the
 * token-as-user style), every query value (Gotify's `?token=`), the fragment, any path
 * segment that reads like a token, and for Slack and Discord the last path segment (their
 * URL is the secret) replaced by `***`. The shape stays readable: scheme, host, path and
 * query keys.
 */
export function maskUrl(stored: string, format: WebhookFormat): string {
  const url = new URL(stored);
  if (url.password !== '') url.password = MASK;
  else if (url.username !== '') url.username = MASK;
  if (url.search !== '') {
    const masked = new URLSearchParams();
    for (const key of url.searchParams.keys()) masked.append(key, MASK);
    url.search = masked.toString();
  }
  if (url.hash !== '') url.hash = MASK;
  const segments = url.pathname.split('/').map((segment) => (TOKEN_LIKE.test(segment) ? MASK : segment));
  if (TOKEN_PATH_FORMATS.has(format)) {
    // `/services/T0/B0/token` or `/api/webhooks/id/token`: the last non-empty segment, never the only one.
    const filled = segments.flatMap((segment, index) => (segment === '' ? [] : [index]));
    const last = filled.at(-1);
    if (last !== undefined && filled.length > 1) segments[last] = MASK;
  }
  url.pathname = segments.join('/');
  return url.href;
}
