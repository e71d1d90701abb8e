import type { Incident, IncidentList } from '@beacon/contracts';
import { ContractPipe } from '@beacon/platform';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { INCIDENT_PAGE, IncidentNoteDto, IncidentQueryDto } from './incident.dto';
import { IncidentsService } from './incidents.service';

/** `/api/v1/incidents`: reads like the catalog's, mutations need the token when one is set. */
@Controller('api/v1/incidents')
export class IncidentsController {
  constructor(@Inject(IncidentsService) private readonly incidents: IncidentsService) {}

  @Get()
  list(@Query(ContractPipe.of(IncidentQueryDto, 'query')) query: IncidentQueryDto): Promise<IncidentList> {
    const { status, service_id, kind, since } = query;
    return this.incidents.list(
      { status, service_id, kind, since: since === undefined ? undefined : Date.parse(since) },
      { limit: query.limit ?? INCIDENT_PAGE.default, skip: query.skip ?? 0 },
    );
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Incident> {
    return this.incidents.get(id);
  }

  @Post(':id/resolve')
  @HttpCode(200)
  resolve(@Param('id') id: string, @Body(ContractPipe.of(IncidentNoteDto)) body: IncidentNoteDto): Promise<Incident> {
    return this.incidents.resolve(id, body.note ?? null);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  acknowledge(@Param('id') id: string, @Body(ContractPipe.of(IncidentNoteDto)) body: IncidentNoteDto): Promise<Incident> {
    return this.incidents.acknowledge(id, body.note ?? null);
  }
}
