import { env, platformEnv, type EnvValues } from '@beacon/platform';

/** mdns-announcer's variables, validated at boot. */
export const announcerEnv = {
  ...platformEnv,
  HTTP_PORT: env.port({ doc: 'port of /health, /ready and /metrics', default: 9103 }),
  HTTP_HOST: env.string({ doc: 'address to listen on', default: '0.0.0.0' }),
};

export type AnnouncerEnv = EnvValues<typeof announcerEnv>;

export const ANNOUNCER_ENV = Symbol('ANNOUNCER_ENV');
