import { env, type FieldSpec } from '../config/env';
import { parseCidr } from './cidr';

/** A list of CIDR ranges or single addresses; a bad entry fails the boot, named. */
function cidrList(doc: string, fallback: string[]): FieldSpec<string[]> {
  const list = env.list({ doc, default: fallback });
  return {
    ...list,
    parse(raw) {
      const parsed = list.parse(raw);
      if ('error' in parsed) return parsed;
      const bad = parsed.value.filter((entry) => parseCidr(entry) === null);
      return bad.length > 0
        ? { error: `has entries that are not an IP address or CIDR range: ${bad.map((entry) => `"${entry}"`).join(', ')}` }
        : parsed;
    },
  };
}

/**
 * Cloud metadata endpoints hand out instance credentials: 169.254.169.254 (AWS, GCP,
 * Azure, Oracle, ...) sits in link-local, the two others do not. Private LAN ranges are
 * not here on purpose: home-lab targets live there.
 */
export const DEFAULT_DENY_CIDRS = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254', '100.100.100.200'];

/**
 * The outbound-address policy, one pair of variables for every app that contacts
 * URLs a client handed it (health-prober's checks, webhook targets), so an operator
 * states it once and every app applies the same defaults.
 */
export const ssrfEnv = {
  PROBE_DENY_CIDRS: cidrList(
    'ranges never contacted (SSRF guard: health checks and webhook targets); by default link-local and the cloud ' +
      'metadata addresses outside it (AWS IPv6 fd00:ec2::254, Alibaba 100.100.100.200); also catches IPv4-mapped IPv6. ' +
      'Private LAN ranges stay allowed; 0.0.0.0/8 and :: are refused always',
    DEFAULT_DENY_CIDRS,
  ),
  PROBE_ALLOW_CIDRS: cidrList(
    'if set, only addresses inside these ranges are contacted by health checks and webhooks (besides the deny list)',
    [],
  ),
};
