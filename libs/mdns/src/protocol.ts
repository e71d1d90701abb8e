/** The mDNS port (RFC 6762 §3); a query from any other port is a legacy unicast one (§6.7). */
export const MDNS_PORT = 5353;

/** DNS-SD service type enumeration (RFC 6763 §9), under the mDNS domain. */
export const SERVICE_ENUMERATION = '_services._dns-sd._udp';

/** `_services._dns-sd._udp.<domain>` */
export function enumerationName(domain: string): string {
  return `${SERVICE_ENUMERATION}.${domain}`;
}
