import { Access } from '@beacon/platform';
import { Controller, Get, Inject } from '@nestjs/common';
import type { ElectorStatus } from '@beacon/contracts';
import { ElectorService } from './elector.service';

/** Seed 001's `/discovery`: this node's role and the servers it knows of. */
@Controller()
@Access('public')
export class DiscoveryController {
  constructor(@Inject(ElectorService) private readonly elector: ElectorService) {}

  @Get('discovery')
  discovery(): ElectorStatus {
    return this.elector.status();
  }
}
