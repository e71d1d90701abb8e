import { MetricsService, NatsService, ROOT_LOGGER, StartupError, type Logger } from '@beacon/platform';
import type { Provider } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ELECTOR_ENV, type ElectorEnv } from '../config';
import { ElectorMetrics } from '../elector.metrics';
import type { ElectionBackend, SelfRef } from './election-backend';
import { MdnsElection } from './mdns.election';
import { NatsLeaseElection } from './nats-lease.election';
import { PinnedElection } from './pinned.election';

export const ELECTION_BACKEND = Symbol('ELECTION_BACKEND');
export const SELF = Symbol('SELF');

/** Where agents reach this node while it is server: SERVER_ADVERTISE_* or what the network says. */
export function selfRef(config: ElectorEnv): SelfRef {
  return {
    node_id: config.NODE_ID,
    instance: randomBytes(6).toString('hex'),
    host: config.SERVER_ADVERTISE_HOST ?? config.advertisedAddress,
    port: config.SERVER_ADVERTISE_PORT,
  };
}

function createBackend(
  config: ElectorEnv,
  self: SelfRef,
  nats: NatsService | undefined,
  logger: Logger,
  metrics: ElectorMetrics,
): ElectionBackend {
  const log = logger.child({ component: 'election' });
  if (config.ROLE === 'agent' && config.SERVER_HOST !== undefined) return new PinnedElection(config.SERVER_HOST, config.SERVER_PORT);
  if (config.DISCOVERY_BACKEND === 'mdns') {
    return new MdnsElection(
      {
        self,
        mode: config.ROLE,
        address: config.advertisedAddress,
        interfaces: config.mdnsInterfaces,
        windowMs: config.ELECTION_MDNS_WINDOW * 1000,
        announceMs: config.ELECTION_MDNS_ANNOUNCE_INTERVAL * 1000,
      },
      log,
      metrics,
    );
  }
  if (!nats) throw new StartupError('the nats backend needs NATS (NATS_URL)');
  return new NatsLeaseElection(
    nats,
    {
      self,
      mode: config.ROLE,
      ttlMs: config.ELECTION_LEASE_TTL * 1000,
      marginMs: config.ELECTION_SAFETY_MARGIN,
      pollMs: config.ELECTION_POLL_INTERVAL,
    },
    log,
    metrics,
  );
}

export const electionProviders: Provider[] = [
  { provide: ElectorMetrics, useFactory: (metrics: MetricsService) => new ElectorMetrics(metrics), inject: [MetricsService] },
  { provide: SELF, useFactory: (config: ElectorEnv) => selfRef(config), inject: [ELECTOR_ENV] },
  {
    provide: ELECTION_BACKEND,
    useFactory: (config: ElectorEnv, self: SelfRef, nats: NatsService | undefined, logger: Logger, metrics: ElectorMetrics) =>
      createBackend(config, self, nats, logger, metrics),
    inject: [ELECTOR_ENV, SELF, { token: NatsService, optional: true }, ROOT_LOGGER, ElectorMetrics],
  },
];
