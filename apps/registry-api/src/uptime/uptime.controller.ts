import type { PingsResponse, StatusPage, UptimeOverview, UptimeResponse } from '@beacon/contracts';
import { ContractPipe } from '@beacon/platform';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { OVERVIEW_WINDOWS, OverviewQueryDto, PINGS_DEFAULT_LIMIT, PingsQueryDto, UptimeQueryDto } from './uptime.dto';
import { UptimeService } from './uptime.service';

/** Uptime history, raw check results, the dashboard's overview and the status page: all reads. */
@Controller('api/v1')
export class UptimeController {
  constructor(@Inject(UptimeService) private readonly uptime: UptimeService) {}

  @Get('services/:id/uptime')
  service(@Param('id') id: string, @Query(ContractPipe.of(UptimeQueryDto, 'query')) query: UptimeQueryDto): Promise<UptimeResponse> {
    return this.uptime.uptime(id, query.from, query.to);
  }

  @Get('services/:id/pings')
  pings(@Param('id') id: string, @Query(ContractPipe.of(PingsQueryDto, 'query')) query: PingsQueryDto): Promise<PingsResponse> {
    return this.uptime.pings(id, query.limit ?? PINGS_DEFAULT_LIMIT, query.since);
  }

  @Get('uptime')
  overview(@Query(ContractPipe.of(OverviewQueryDto, 'query')) query: OverviewQueryDto): Promise<UptimeOverview> {
    return this.uptime.overview(query.windows ?? OVERVIEW_WINDOWS.default);
  }

  @Get('status-page')
  statusPage(): Promise<StatusPage> {
    return this.uptime.statusPage();
  }
}
