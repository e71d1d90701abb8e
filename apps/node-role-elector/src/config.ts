import { env, platformEnv, type EnvValues } from '@beacon/platform';

/** node-role-elector's variables, validated at boot. */
export const electorEnv = {
  ...platformEnv,
  HTTP_PORT: env.port({ doc: 'port of /health, /ready and /metrics', default: 9999 }),
  HTTP_HOST: env.string({ doc: 'address to listen on', default: '0.0.0.0' }),
};

export type ElectorEnv = EnvValues<typeof electorEnv>;

export const ELECTOR_ENV = Symbol('ELECTOR_ENV');
