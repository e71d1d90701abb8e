import { catalogViewEnv, env, platformEnv, ssrfEnv, workerEnv, type EnvValues } from '@beacon/platform';

/** The guard's defaults live beside it in platform, shared with registry-api's webhook targets. */
export { DEFAULT_DENY_CIDRS } from '@beacon/platform';

/** health-prober's variables, validated at boot. */
export const proberEnv = {
  ...platformEnv,
  ...catalogViewEnv,
  ...workerEnv(9102),
  ...ssrfEnv,
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
