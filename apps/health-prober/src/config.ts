import { catalogViewEnv, platformEnv, workerEnv, type EnvValues } from '@beacon/platform';

/** health-prober's variables, validated at boot. */
export const proberEnv = {
  ...platformEnv,
  ...catalogViewEnv,
  ...workerEnv(9102),
};

export type ProberEnv = EnvValues<typeof proberEnv>;

export const PROBER_ENV = Symbol('PROBER_ENV');
