import {
  DEFAULTS,
  HEALTH_HISTORY,
  HealthChecksQueryDto,
  HeartbeatQueryDto,
  PageQueryDto,
  RegisterServiceDto,
  ServiceFilterDto,
  UpdateServiceDto,
  parseServiceQuery,
  type CleanupResponse,
  type DiscoverResponse,
  type ExpiredListResponse,
  type HealthChecksResponse,
  type HeartbeatResponse,
  type ProbeResult,
  type Service,
  type ServiceListResponse,
  type ServiceQueryDto,
} from '@beacon/contracts';
import { Access, ContractPipe } from '@beacon/platform';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { EntryLimitsPipe } from '../limits/entry-limits';
import { RateLimited } from '../limits/rate-limits';
import type { Page, ServiceFilter } from '../store/service-store';
import { goneAtEdge } from './catalog.errors';
import { CatalogService, DISCOVERABLE } from './catalog.service';

const serviceQuery = new ContractPipe<ServiceQueryDto>(parseServiceQuery, 'query');

function pageOf(query: { limit?: number; skip?: number }): Page {
  return { limit: query.limit ?? DEFAULTS.listLimit, skip: query.skip ?? 0 };
}

/** The filter part of a validated query or discover body. */
function filterOf(dto: ServiceFilterDto): ServiceFilter {
  const { type, tags, protocol, status, name, version, health, node_id, metadata } = dto;
  const filter: ServiceFilter = { type, protocol, status, name, version, health, node_id, metadata };
  if (tags && tags.length > 0) filter.tags = tags;
  // A JSON body may say null for "no filter" (@IsOptional lets null through): not a filter on "null".
  for (const key of Object.keys(filter) as (keyof ServiceFilter)[])
    if (filter[key] === undefined || filter[key] === null) delete filter[key];
  return filter;
}

/** What a discover call filtered on, as the original echoed it (`tags` comma-joined). */
function describeFilter(filter: ServiceFilter): Record<string, string> {
  const applied: Record<string, string> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'metadata') {
      for (const [metaKey, metaValue] of Object.entries(value as Record<string, string>)) applied[`metadata.${metaKey}`] = metaValue;
    } else {
      applied[key] = Array.isArray(value) ? value.join(',') : String(value);
    }
  }
  return applied;
}

/** Seed 000's REST contract under `/api/v1/services`. */
@Controller('api/v1/services')
export class ServicesController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  /** 201 for a new registration and for a re-registration alike (seed 000's ESP32 client expects 201). */
  @Post('register')
  @HttpCode(201)
  @RateLimited('registration')
  async register(@Body(ContractPipe.of(RegisterServiceDto), EntryLimitsPipe) body: RegisterServiceDto): Promise<Service> {
    return this.catalog.register(body);
  }

  /** 410 Gone for a service an operator deleted (a tombstone); 404 for an id nobody knows. */
  @Put(':id/heartbeat')
  async heartbeat(
    @Param('id') id: string,
    @Query(ContractPipe.of(HeartbeatQueryDto, 'query')) query: HeartbeatQueryDto,
  ): Promise<HeartbeatResponse> {
    const service = await goneAtEdge(this.catalog.heartbeat(id, query.ttl));
    return {
      service_id: service.service_id,
      status: service.status,
      expires_at: service.expires_at,
      last_heartbeat: service.last_heartbeat ?? service.updated_at,
      message: 'Heartbeat received successfully',
    };
  }

  @Get()
  async list(@Query(serviceQuery) query: ServiceQueryDto): Promise<ServiceListResponse> {
    const page = pageOf(query);
    const { services, total } = await this.catalog.list(filterOf(query), page);
    return { services, total, page: Math.floor(page.skip / page.limit) + 1, page_size: page.limit };
  }

  @Get('discover')
  async discover(@Query(serviceQuery) query: ServiceQueryDto): Promise<DiscoverResponse> {
    return this.discoverWith(filterOf(query), pageOf(query));
  }

  @Post('discover')
  @HttpCode(200)
  @Access('read')
  async discoverByBody(
    @Body(ContractPipe.of(ServiceFilterDto)) body: ServiceFilterDto,
    @Query(ContractPipe.of(PageQueryDto, 'query')) query: PageQueryDto,
  ): Promise<DiscoverResponse> {
    return this.discoverWith(filterOf(body), pageOf(query));
  }

  @Get('types')
  types(): Promise<string[]> {
    return this.catalog.types();
  }

  @Get('tags')
  tags(): Promise<string[]> {
    return this.catalog.tags();
  }

  @Get('expired')
  async expired(@Query(ContractPipe.of(PageQueryDto, 'query')) query: PageQueryDto): Promise<ExpiredListResponse> {
    return this.catalog.list({ status: 'expired' }, pageOf(query));
  }

  /** Removes every expired record now (the reaper does this after the retention period). */
  @Delete('cleanup')
  async cleanup(): Promise<CleanupResponse> {
    const removed = await this.catalog.purge(Date.now() + 1);
    return { removed_count: removed, message: `Removed ${removed} expired service${removed === 1 ? '' : 's'}` };
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Service> {
    return this.catalog.get(id);
  }

  @Get(':id/status')
  status(@Param('id') id: string): Promise<Service> {
    return this.catalog.get(id);
  }

  /** The service's recent checks, newest first (kept: the last 100 per service, up to 24 h). */
  @Get(':id/health-checks')
  healthChecks(
    @Param('id') id: string,
    @Query(ContractPipe.of(HealthChecksQueryDto, 'query')) query: HealthChecksQueryDto,
  ): Promise<HealthChecksResponse> {
    return this.catalog.healthChecks(id, query.limit ?? HEALTH_HISTORY.defaultLimit);
  }

  /** Checks the service now and answers with the result and the service after it. */
  @Post(':id/health-check')
  @HttpCode(200)
  @RateLimited('on_demand_check')
  checkNow(@Param('id') id: string): Promise<{ result: ProbeResult; service: Service }> {
    return this.catalog.checkNow(id);
  }

  @Put(':id')
  update(@Param('id') id: string, @Body(ContractPipe.of(UpdateServiceDto), EntryLimitsPipe) body: UpdateServiceDto): Promise<Service> {
    return this.catalog.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async deregister(@Param('id') id: string): Promise<void> {
    await this.catalog.deregister(id);
  }

  /** Discovery returns what a client should connect to: active (and so not unhealthy) unless `status` says otherwise. */
  private async discoverWith(filter: ServiceFilter, page: Page): Promise<DiscoverResponse> {
    const applied: ServiceFilter = { ...filter, status: filter.status ?? DISCOVERABLE };
    const { services, total } = await this.catalog.list(applied, page);
    return { services, total, filters_applied: describeFilter(applied), discovery_method: 'api' };
  }
}
