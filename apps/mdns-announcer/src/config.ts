import { mdnsInterfaceEnv } from '@beacon/mdns';
import { catalogViewEnv, env, platformEnv, type EnvValues } from '@beacon/platform';
import { hostname } from 'node:os';

/** mdns-announcer's variables (seed 000's MDNS_DOMAIN and MDNS_INTERFACE among them), validated at boot. */
export const announcerEnv = {
  ...platformEnv,
  ...catalogViewEnv,
  HTTP_PORT: env.port({ doc: 'port of /health, /ready and /metrics', default: 9103 }),
  HTTP_HOST: env.string({ doc: 'address to listen on', default: '0.0.0.0' }),
  ...mdnsInterfaceEnv,
  MDNS_DOMAIN: env.string({ doc: 'mDNS domain', default: 'local', pattern: /^[a-z0-9-]+$/i, patternHint: 'a single label such as local' }),
  MDNS_ANNOUNCE_UNHEALTHY: env.bool({ doc: 'keep announcing services whose health checks fail', default: false }),
  MDNS_HOSTNAME: env.string({
    doc: "this host's name on the LAN (Beacon's own records point at <name>.<domain>)",
    default:
      hostname()
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-') || 'beacon',
    pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i,
    patternHint: 'a host label: letters, digits and hyphens, 1–63 characters',
  }),
  BEACON_ANNOUNCE_PORT: env.port({ doc: "registry-api's port, announced as _beacon._tcp so devices find the registry", default: 8097 }),
  BEACON_ANNOUNCE_NAME: env.string({ doc: 'instance name of Beacon itself under _beacon._tcp', default: `Beacon (${hostname()})` }),
};

export type AnnouncerEnv = EnvValues<typeof announcerEnv>;

export const ANNOUNCER_ENV = Symbol('ANNOUNCER_ENV');
