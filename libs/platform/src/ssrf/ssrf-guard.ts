import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { CidrSet, isIpLiteral, parseIp } from './cidr';

/** Errors carry this code through got and net, so a check can tell a refusal from a failure. */
export const TARGET_REFUSED = 'ERR_BEACON_TARGET_REFUSED';

/** The guard would not let a check contact this address; nothing was sent to it. */
export class TargetRefusedError extends Error {
  readonly code = TARGET_REFUSED;

  constructor(reason: string) {
    super(reason);
    this.name = 'TargetRefusedError';
  }
}

/**
 * Refused whatever the configuration says. Connecting to an unspecified address (0.0.0.0,
 * `::`, and on Linux the rest of 0.0.0.0/8) reaches this host itself, so `http://0/` or
 * `http://[::]/` would walk past a loopback deny; no real health check needs them.
 * IPv4 is held as mapped IPv6 (see cidr.ts), so `::ffff:0.0.0.0` is caught too.
 */
export const ALWAYS_DENIED = ['0.0.0.0/8', '::/128'] as const;

export interface SsrfGuardOptions {
  deny: readonly string[];
  /** Empty: anything not denied is allowed. */
  allow: readonly string[];
}

/**
 * Keeps health checks away from addresses a registrant should not be able to make the
 * prober reach (unspecified addresses always; by default cloud metadata and link-local;
 * whatever else the operator denies). The decision is made on the address actually connected to: `lookup` resolves
 * and vets every address before the socket connects to one of them, so a name cannot
 * pass the check and then re-resolve somewhere else (DNS rebinding).
 */
export class SsrfGuard {
  private readonly unspecified = new CidrSet(ALWAYS_DENIED);
  private readonly deny: CidrSet;
  private readonly allow: CidrSet;

  constructor(options: SsrfGuardOptions) {
    this.deny = new CidrSet(options.deny);
    this.allow = new CidrSet(options.allow);
  }

  /** Why `address` (an IP) may not be contacted, or null when it may. */
  refusal(address: string): string | null {
    if (!parseIp(address)) return `${address} is not an IP address`;
    const unspecified = this.unspecified.match(address);
    if (unspecified) return `${address} is an unspecified address (${unspecified}), which reaches this host: always refused`;
    const denied = this.deny.match(address);
    if (denied) return `${address} is in denied range ${denied} (PROBE_DENY_CIDRS)`;
    if (this.allow.size > 0 && !this.allow.match(address)) {
      return `${address} is outside the allowed ranges ${this.allow.toString()} (PROBE_ALLOW_CIDRS)`;
    }
    return null;
  }

  /**
   * Throws `TargetRefusedError` if `host` is an IP literal the guard refuses. Node connects
   * to literals without calling `lookup`, so they must be vetted before the request;
   * hostnames are vetted by `lookup` when they resolve.
   */
  assertHost(host: string): void {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (!isIpLiteral(bare)) return;
    const reason = this.refusal(bare);
    if (reason) throw new TargetRefusedError(reason);
  }

  /** A `dns.lookup` replacement for got and `net.connect` that fails if any resolved address is refused. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const all: LookupAllOptions = { ...lookupOptions(options), all: true };
    dnsLookup(hostname, all, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '');
        return;
      }
      for (const { address } of addresses) {
        const reason = this.refusal(address);
        if (reason) {
          callback(new TargetRefusedError(`${hostname}: ${reason}`), '');
          return;
        }
      }
      const first = addresses[0];
      if (options.all) callback(null, addresses);
      else if (first) callback(null, first.address, first.family);
      else callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '');
    });
  };
}

/** The resolution options net/http pass through; `all` is decided by the guard. */
function lookupOptions(options: LookupOptions): LookupOptions {
  const picked: LookupOptions = {};
  if (options.family !== undefined) picked.family = options.family;
  if (options.hints !== undefined) picked.hints = options.hints;
  if (options.verbatim !== undefined) picked.verbatim = options.verbatim;
  return picked;
}
