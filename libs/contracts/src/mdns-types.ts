import { SERVER_MDNS_TYPE } from './elector';

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

/** Where devices find Beacon's registry (seed 000's ESP32 browses `beacon` over tcp); mdns-announcer announces it. */
export const REGISTRY_MDNS_TYPE = '_beacon._tcp';

/**
 * Types that name Beacon itself: a registrant announced under one would be found by
 * devices (or nodes) looking for the registry (or their server) and could answer them.
 */
export const RESERVED_MDNS_SERVICE_TYPES: readonly string[] = [REGISTRY_MDNS_TYPE, SERVER_MDNS_TYPE];

const RESERVED_SERVICE_NAMES = new Set(RESERVED_MDNS_SERVICE_TYPES.map((type) => type.split('.')[0]));

/** Whether a DNS-SD type is Beacon's own, over tcp or udp, in any letter case. */
export function isReservedMdnsServiceType(type: string): boolean {
  return RESERVED_SERVICE_NAMES.has(type.toLowerCase().split('.')[0]);
}

/**
 * The mDNS type for a Beacon service type: the seed's table first, otherwise the type
 * itself made into a valid RFC 6335 service name (`Home Assistant` → `_home-assistant._tcp`).
 * A type that would come out as one of Beacon's own (`beacon`) gets the generic one.
 */
export function mdnsServiceTypeFor(type: string): string {
  const mapped = MDNS_TYPE_MAP[type.toLowerCase()];
  if (mapped) return mapped;
  const label = type
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SERVICE_NAME_MAX)
    .replace(/^-+|-+$/g, '');
  const derived = `_${label || 'service'}._tcp`;
  return isReservedMdnsServiceType(derived) ? '_service._tcp' : derived;
}
