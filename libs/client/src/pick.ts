import type { Service } from '@beacon/contracts';

export type PickStrategy = 'random' | 'round-robin' | 'least-load';

/**
 * Whether an instance may take traffic: status `active`, health not `unhealthy`, and
 * `expires_at` not passed by the local clock (a watch resumed with `since=` may hold an old
 * `expires_at` until the next renewal, so a renewed instance can be skipped for that long,
 * never an expired one used).
 */
export function isEligible(service: Service, now: number): boolean {
  if (service.status !== 'active' || service.health === 'unhealthy') return false;
  const expiresAt = Date.parse(service.expires_at);
  return Number.isFinite(expiresAt) && expiresAt > now;
}

/**
 * The instances a pick chooses from: the eligible ones whose health is not `degraded`
 * (`healthy`, or `unknown` when no check is configured); only when there is none, the
 * eligible `degraded` ones (slow is better than nothing).
 */
export function candidates(services: Iterable<Service>, now: number): Service[] {
  const preferred: Service[] = [];
  const degraded: Service[] = [];
  for (const service of services) {
    if (!isEligible(service, now)) continue;
    (service.health === 'degraded' ? degraded : preferred).push(service);
  }
  return preferred.length > 0 ? preferred : degraded;
}

/** Load as least-load compares it: the reported 0.0–1.0, an unknown (null) load counted as full (1.0). */
export const loadOf = (service: Service): number => (typeof service.load === 'number' && Number.isFinite(service.load) ? service.load : 1);

const byId = (a: Service, b: Service): number => (a.service_id < b.service_id ? -1 : a.service_id > b.service_id ? 1 : 0);

/**
 * The candidates in service_id order, and until when that list holds by the clock alone
 * (the earliest `expires_at` among the eligible): a watch keeps it until then or its next change.
 */
export function candidatePool(services: Iterable<Service>, now: number): { pool: Service[]; validUntil: number } {
  const all = [...services]; // an iterator (a Map's values) is read twice here
  const pool = candidates(all, now).sort(byId);
  let validUntil = Infinity;
  for (const service of all) {
    if (isEligible(service, now)) validUntil = Math.min(validUntil, Date.parse(service.expires_at));
  }
  return { pool, validUntil };
}

/**
 * One instance by `strategy` from `services`, or undefined when none is eligible.
 * `cursor` is round-robin's memory (the last id picked): the next pick is the first id after
 * it in service_id order, so instances coming and going never restart or skip the cycle.
 * least-load takes the lowest load, a random one among equals.
 */
export function pickFrom(
  services: Iterable<Service>,
  strategy: PickStrategy,
  cursor: { last?: string },
  now: number = Date.now(),
  random: () => number = Math.random,
): Service | undefined {
  return choose(candidates(services, now).sort(byId), strategy, cursor, random);
}

/** One of `pool` (candidates, in service_id order) by `strategy`. */
export function choose(
  pool: readonly Service[],
  strategy: PickStrategy,
  cursor: { last?: string },
  random: () => number = Math.random,
): Service | undefined {
  if (pool.length === 0) return undefined;
  switch (strategy) {
    case 'random':
      return pool[Math.floor(random() * pool.length)];
    case 'round-robin': {
      const next = pool[firstAfter(pool, cursor.last)] ?? pool[0];
      cursor.last = next?.service_id;
      return next;
    }
    case 'least-load': {
      let lowest = Infinity;
      let least: Service[] = [];
      for (const service of pool) {
        const load = loadOf(service);
        if (load < lowest) {
          lowest = load;
          least = [service];
        } else if (load === lowest) least.push(service);
      }
      return least[Math.floor(random() * least.length)];
    }
    default:
      throw new TypeError(`unknown pick strategy "${String(strategy)}": random, round-robin or least-load`);
  }
}

/** Index of the first service whose id sorts after `last` (binary search); pool.length when none does. */
function firstAfter(pool: readonly Service[], last: string | undefined): number {
  if (last === undefined) return 0;
  let low = 0;
  let high = pool.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (pool[middle]!.service_id > last) high = middle;
    else low = middle + 1;
  }
  return low;
}
