import { isIpLiteral } from './cidr';
import type { SsrfGuard } from './ssrf-guard';

const SCHEMES = new Set(['http:', 'https:']);

/**
 * Why `text` may not be stored as a URL Beacon will contact later (a webhook target),
 * or null when it may. Synchronous and offline, so it runs when the URL is submitted:
 * the scheme, a host, and a host written as an IP address the guard refuses. A name is
 * not resolved here (it could resolve elsewhere by the time of use); the sender vets it
 * at connect with `guard.lookup`. WHATWG parsing turns `http://0x7f.1/` or
 * `http://2852039166/` into dotted IPv4 first, so every spelling of an address is seen.
 */
export function targetUrlRefusal(guard: SsrfGuard, text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  if (!SCHEMES.has(url.protocol)) return `must use http or https, not ${url.protocol.slice(0, -1)}`;
  if (url.hostname === '') return 'has no host';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!isIpLiteral(host)) return null;
  const reason = guard.refusal(host);
  return reason === null ? null : `is refused: ${reason}`;
}
