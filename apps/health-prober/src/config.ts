import { catalogViewEnv, env, platformEnv, workerEnv, type EnvValues, type FieldSpec } from '@beacon/platform';
import { parseCidr } from './ssrf/cidr';

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

/** health-prober's variables, validated at boot. */
export const proberEnv = {
  ...platformEnv,
  ...catalogViewEnv,
  ...workerEnv(9102),
  PROBE_DENY_CIDRS: cidrList(
    'ranges never probed (SSRF guard); by default link-local and the cloud metadata addresses outside it ' +
      '(AWS IPv6 fd00:ec2::254, Alibaba 100.100.100.200); also catches IPv4-mapped IPv6. ' +
      'Private LAN ranges stay allowed; 0.0.0.0/8 and :: are refused always',
    DEFAULT_DENY_CIDRS,
  ),
  PROBE_ALLOW_CIDRS: cidrList('if set, only targets inside these ranges are probed (besides the deny list)', []),
  PROBE_CONCURRENCY: env.int({
    doc:
      'health checks in flight at once; due checks beyond it wait their turn, earliest due first. New and slow targets ' +
      '(a check of 1 s or more, or a timeout) never get more than 3/4 of the slots, slow ones alone half',
    default: 256,
    min: 1,
    max: 10_000,
  }),
  PROBE_PER_HOST_CONCURRENCY: env.int({
    doc:
      'checks of new and slow targets in flight at once against one host (as written in the URL or host:port), ' +
      'so one host that stops answering cannot hold every slot; targets that answer within 1 s are not capped by host',
    default: 32,
    min: 1,
    max: 10_000,
  }),
  PROBE_JITTER: env.number({
    doc: 'fraction of the interval each check moves at random (0.1 = ±10%), so targets do not fire in lockstep',
    default: 0.1,
    min: 0,
    max: 0.5,
  }),
  PROBE_MAX_BODY_BYTES: env.int({
    doc: 'bytes of a health response body read at most (a larger body is abandoned, not buffered)',
    default: 64 * 1024,
    min: 0,
    max: 16 * 1024 * 1024,
  }),
};

export type ProberEnv = EnvValues<typeof proberEnv>;

export const PROBER_ENV = Symbol('PROBER_ENV');
