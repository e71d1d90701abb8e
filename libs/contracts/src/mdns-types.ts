/**
 * Seed 000's service type → mDNS service type table ("Service Type Mappings").
 * Values are stored without the domain (`_mqtt._tcp`); the announcer appends `.local`.
 */
export const MDNS_TYPE_MAP: Readonly<Record<string, string>> = Object.freeze({
  mqtt: '_mqtt._tcp',
  http: '_http._tcp',
  https: '_https._tcp',
  iot: '_iot._tcp',
  api: '_http._tcp',
  database: '_db._tcp',
  cache: '_cache._tcp',
  message_queue: '_mq._tcp',
});

/** RFC 6335 §5.1: 1–15 letters, digits and hyphens, not starting or ending with a hyphen. */
const SERVICE_NAME_MAX = 15;

/** DNS-SD type in the form `_name._tcp` or `_name._udp`. */
export const MDNS_SERVICE_TYPE_PATTERN = /^_[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?\._(?:tcp|udp)$/;

/**
 * The mDNS type for a Beacon service type: the seed's table first, otherwise the type
 * itself made into a valid RFC 6335 service name (`Home Assistant` → `_home-assistant._tcp`).
 */
export function mdnsServiceTypeFor(type: string): string {
  const mapped = MDNS_TYPE_MAP[type.toLowerCase()];
  if (mapped) return mapped;
  const label = type
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SERVICE_NAME_MAX)
    .replace(/^-+|-+$/g, '');
  return `_${label || 'service'}._tcp`;
}
