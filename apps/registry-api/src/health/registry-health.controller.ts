import { Subjects, type MdnsStatus, type RegistryHealthResponse } from '@beacon/contracts';
import { Access, HealthService, NatsService, type ReadinessBody } from '@beacon/platform';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CatalogService } from '../catalog/catalog.service';
import { SERVICE_STORE, type ServiceStore } from '../store/service-store';
import { SharedAnswer } from './shared-answer';

/** How long `/api/v1/health` waits for mdns-announcer before showing "unknown". */
const MDNS_STATUS_TIMEOUT_MS = 250;
/** How long one answer from mdns-announcer serves every health request (`SharedAnswer`). */
const MDNS_STATUS_FRESH_MS = 1_000;

const MIB = 1024 * 1024;

const UNKNOWN_MDNS = { running: 'unknown', registered_services: null, domain: null } as const;

/**
 * Seed 000's `/api/v1/health`, `/ready` and `/live` (docs/compatibility.md). The catalog's counts
 * come through `CatalogService`; the store is read directly only for its own health
 * (reachable, backend, records cached), which the catalog has no rules about.
 */
@Controller('api/v1')
@Access('public')
export class RegistryHealthController {
  private readonly mdnsStatus = new SharedAnswer(() => this.askMdns(), MDNS_STATUS_FRESH_MS);

  constructor(
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
    @Inject(CatalogService) private readonly catalog: CatalogService,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(HealthService) private readonly health: HealthService,
  ) {}

  @Get('health')
  async healthReport(@Res({ passthrough: true }) reply: FastifyReply): Promise<RegistryHealthResponse> {
    const [database, mdns] = await Promise.all([this.database(), this.mdnsStatus.get()]);
    const services = database.connected ? await this.catalog.countByStatus() : emptyCounts();
    const natsConnected = this.nats.connected;
    const status = !database.connected ? 'unhealthy' : natsConnected ? 'healthy' : 'degraded';
    if (status === 'unhealthy') reply.status(503);
    return {
      status,
      message: MESSAGES[status],
      version: this.health.version,
      uptime: this.health.uptimeSeconds,
      timestamp: new Date().toISOString(),
      services,
      mdns,
      database,
      nats: { connected: natsConnected },
      memory: { used_mb: Math.round(process.memoryUsage.rss() / MIB), cache_size: this.store.cachedRecords },
    };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessBody> {
    const { ready, body } = await this.health.readinessBody();
    if (!ready) reply.status(503);
    return body;
  }

  @Get('live')
  live(): { status: 'alive' } {
    return { status: 'alive' };
  }

  private async database(): Promise<RegistryHealthResponse['database']> {
    try {
      const ping = await this.store.ping();
      return { connected: true, ping_ms: Math.round(ping * 100) / 100, backend: this.store.backend };
    } catch {
      return { connected: false, ping_ms: null, backend: this.store.backend };
    }
  }

  private async askMdns(): Promise<MdnsStatus | typeof UNKNOWN_MDNS> {
    try {
      const reply = await this.nats.request(Subjects.mdnsStatus, {}, MDNS_STATUS_TIMEOUT_MS);
      const { running, registered_services, domain, interfaces, problem } = reply;
      // Announcers from before issue 14 send neither interfaces nor problem.
      return { running, registered_services, domain, ...(interfaces && { interfaces }), ...(problem !== undefined && { problem }) };
    } catch {
      return UNKNOWN_MDNS;
    }
  }
}

const MESSAGES = {
  healthy: 'Beacon is running',
  degraded: 'Beacon is serving the API but NATS is unreachable: events are not delivered',
  unhealthy: 'The catalog store is unreachable',
} as const;

function emptyCounts(): RegistryHealthResponse['services'] {
  return { total: 0, active: 0, inactive: 0, expired: 0, unhealthy: 0 };
}
