import type { RegistryStatsResponse } from '@beacon/contracts';
import { Controller, Get, Inject } from '@nestjs/common';
import { StatsService } from './stats.service';

@Controller('api/v1')
export class StatsController {
  constructor(@Inject(StatsService) private readonly statsService: StatsService) {}

  @Get('stats')
  stats(): Promise<RegistryStatsResponse> {
    return this.statsService.stats();
  }
}
