// Text for times and endpoints. Pure functions: the table calls them every second for
// every row, so they allocate little and never touch the DOM.

/** `${protocol}://${host}:${port}`, with brackets around IPv6 literals so the URL parses. */
export function endpointUrl(service) {
  const host = service.host.includes(':') && !service.host.startsWith('[') ? `[${service.host}]` : service.host;
  return `${service.protocol || 'http'}://${host}:${service.port}`;
}

/** The endpoint as a link target, only for http and https (anything else is not for a browser to open); '' otherwise. */
export function linkUrl(service) {
  const scheme = service.protocol || 'http';
  if (scheme !== 'http' && scheme !== 'https') return '';
  try {
    const url = new URL(endpointUrl(service));
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '';
  } catch {
    return '';
  }
}

/** 75 → "1m 15s"; 3 days and more drop the seconds. */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** "12s ago" for a time in ms, or "—" when there never was one. */
export function ago(at, now) {
  if (!Number.isFinite(at)) return '—';
  const seconds = (now - at) / 1000;
  return seconds < 1 ? 'just now' : `${duration(seconds)} ago`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Local, human date and time; the ISO string stays available as a title/datetime. */
export function localTime(iso) {
  const at = Date.parse(iso ?? '');
  return Number.isFinite(at) ? timeFormat.format(at) : '—';
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function clockTime(iso) {
  const at = Date.parse(iso ?? '');
  return Number.isFinite(at) ? clock.format(at) : '—';
}
