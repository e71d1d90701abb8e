import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Access } from '../http/auth';
import { HealthService, type ReadinessBody } from './health.service';
import { MetricsService } from '../metrics/metrics.service';

/** `/health` (liveness), `/ready` (dependencies up) and `/metrics`, on every app; the first two are always open. */
@Controller()
@Access('public')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('health')
  liveness(): { status: 'ok'; app: string; version: string; uptime: number } & Record<string, unknown> {
    return {
      ...this.health.healthDetails(),
      status: 'ok',
      app: this.health.appName,
      version: this.health.version,
      uptime: this.health.uptimeSeconds,
    };
  }

  @Get('ready')
  async readiness(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessBody> {
    const { ready, body } = await this.health.readinessBody();
    if (!ready) reply.status(503);
    return body;
  }

  /**
   * A read wherever reads are guarded (registry-api with BEACON_AUTH_READS=true): its
   * series name unhealthy services, which the catalog's readers alone may see. Apps that
   * guard no reads leave it open; their series hold counts, not names.
   */
  @Get('metrics')
  @Access('read')
  @HttpCode(200)
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    reply.header('content-type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
