import rateLimit from '@fastify/rate-limit';
import { RouteConfig, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import { isIPv4, isIPv6 } from 'node:net';
import type { RegistryEnv } from '../config';

/**
 * Per-client limits on the requests that cost the registry (or a third party) most:
 * registrations, which grow the catalog and fan out as events, and on-demand checks,
 * which make health-prober connect wherever a registrant points it (a port scanner for
 * whoever can call it). Heartbeats are not limited: a fleet renews continuously, and a
 * renewal neither grows anything nor reaches out.
 */
export type RateLimitedAction = 'registration' | 'on_demand_check';

/** Route config key (`@RateLimited`) that `installRateLimits` looks for. */
const ROUTE_CONFIG_KEY = 'beaconRateLimit';

/** Marks a route as limited per client for `action`. */
export const RateLimited = (action: RateLimitedAction): MethodDecorator => RouteConfig({ [ROUTE_CONFIG_KEY]: action });

export interface RatePolicy {
  /** Requests per window and client; 0: unlimited. */
  max: number;
  windowMs: number;
  /** How a client reads it in a refusal: "registrations", "on-demand health checks". */
  what: string;
  per: 'second' | 'minute';
  variable: keyof RegistryEnv;
}

export function ratePolicies(config: RegistryEnv): Record<RateLimitedAction, RatePolicy> {
  return {
    registration: {
      max: config.BEACON_REGISTRATIONS_PER_SECOND,
      windowMs: 1000,
      what: 'registrations',
      per: 'second',
      variable: 'BEACON_REGISTRATIONS_PER_SECOND',
    },
    on_demand_check: {
      max: config.BEACON_ON_DEMAND_CHECKS_PER_MINUTE,
      windowMs: 60_000,
      what: 'on-demand health checks',
      per: 'minute',
      variable: 'BEACON_ON_DEMAND_CHECKS_PER_MINUTE',
    },
  };
}

/** The `detail` of a 429. */
export function tooManyDetail(policy: RatePolicy, retryAfterSeconds: number): string {
  return (
    `Too many ${policy.what} from this client: at most ${policy.max} per ${policy.per} (${policy.variable}); ` +
    `retry in ${retryAfterSeconds} s`
  );
}

/** An IPv6 address as its eight 16-bit groups, or null when it is not one. */
function ipv6Groups(address: string): number[] | null {
  if (!isIPv6(address)) return null;
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = (dotted[1] as string).split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * Whom a request counts against. IPv4 by address (an IPv4-mapped IPv6 address too); IPv6
 * by its /64, since one host usually holds a whole /64 and could otherwise take a fresh
 * address for every request.
 */
export function clientKey(ip: string): string {
  if (isIPv4(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** `BEACON_TRUST_PROXY` as Fastify's `trustProxy` list: `none` (or nothing) trusts no proxy. */
export function trustedProxies(setting: readonly string[]): string[] {
  return setting.some((entry) => entry.toLowerCase() === 'none') ? [] : [...setting];
}

const hooksOf = (hooks: RouteOptions['onRequest']): onRequestAsyncHookHandler[] =>
  (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]) as onRequestAsyncHookHandler[];

/**
 * Installs the limits with `@fastify/rate-limit` (in-memory, per process: with several
 * replicas each counts its own share). Call before the app starts listening: the limits
 * attach to routes as they are registered.
 */
export async function installRateLimits(app: NestFastifyApplication, config: RegistryEnv): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(rateLimit, { global: false });
  const policies = ratePolicies(config);
  const limiters = new Map<RateLimitedAction, onRequestAsyncHookHandler>();
  for (const [action, policy] of Object.entries(policies) as [RateLimitedAction, RatePolicy][]) {
    if (policy.max === 0) continue;
    const limit = fastify.createRateLimit({
      max: policy.max,
      timeWindow: policy.windowMs,
      keyGenerator: (request) => clientKey(request.ip),
    });
    limiters.set(action, async (request: FastifyRequest, reply: FastifyReply) => {
      const verdict = await limit(request);
      if (verdict.isAllowed || !verdict.isExceeded) return undefined;
      const retryAfter = Math.max(1, verdict.ttlInSeconds);
      // Answered here, so the request goes no further (Fastify: send, then return the reply).
      return reply
        .code(429)
        .header('retry-after', String(retryAfter))
        .send({ detail: tooManyDetail(policy, retryAfter) });
    });
  }
  fastify.addHook('onRoute', (route) => {
    const action = (route.config as Record<string, unknown> | undefined)?.[ROUTE_CONFIG_KEY] as RateLimitedAction | undefined;
    const limiter = action === undefined ? undefined : limiters.get(action);
    if (limiter) route.onRequest = [...hooksOf(route.onRequest), limiter];
  });
}
