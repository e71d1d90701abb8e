import { catalogViewEnv, env, platformEnv, workerEnv, type EnvValues } from '@beacon/platform';

/** ttl-reaper's variables (seed 000's BEACON_TTL_CLEANUP_INTERVAL among them), validated at boot. */
export const reaperEnv = {
  ...platformEnv,
  ...catalogViewEnv,
  ...workerEnv(9101),
  BEACON_TTL_CLEANUP_INTERVAL: env.int({
    doc: 'seconds between sweeps that expire anything the timers missed (and purges)',
    default: 30,
    min: 1,
    max: 3600,
  }),
  BEACON_EXPIRED_RETENTION: env.int({
    doc: 'seconds an expired service is kept (listed under /services/expired) before it is purged',
    default: 3600,
    min: 0,
    max: 30 * 86400,
  }),
  REAPER_CONCURRENCY: env.int({ doc: 'expire requests in flight at once', default: 64, min: 1, max: 10_000 }),
};

export type ReaperEnv = EnvValues<typeof reaperEnv>;

export const REAPER_ENV = Symbol('REAPER_ENV');
