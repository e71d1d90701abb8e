import {
  DiscoveryHeartbeatDto,
  DiscoveryRegisterDto,
  type DiscoveryHeartbeatResponse,
  type DiscoveryInstance,
  type DiscoveryInstancesResponse,
  type DiscoveryServicesResponse,
  type DiscoveryUnregisterResponse,
} from '@beacon/contracts';
import { ContractPipe } from '@beacon/platform';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { EntryLimitsPipe } from '../limits/entry-limits';
import { RateLimited } from '../limits/rate-limits';
import { goneAtEdge } from '../catalog/catalog.errors';
import { DiscoveryService } from './discovery.service';

/**
 * Seed 004's routes, for its clients unchanged (FastAPI-era httpx code). Everything
 * answers 200 with a JSON body, as FastAPI does by default: a client's `response.json()`
 * works on every success, including unregister (a 204 has no body to parse).
 */
@Controller('v1/discovery')
export class DiscoveryController {
  constructor(@Inject(DiscoveryService) private readonly discovery: DiscoveryService) {}

  /** 200 for a new instance and a re-registration alike: it is an upsert by `(service_name, instance_id)`. */
  @Post('register')
  @HttpCode(200)
  @RateLimited('registration')
  register(@Body(ContractPipe.of(DiscoveryRegisterDto), EntryLimitsPipe) body: DiscoveryRegisterDto): Promise<DiscoveryInstance> {
    return this.discovery.register(body);
  }

  /** 410 Gone for an instance an operator unregistered (a tombstone), as `/api/v1/services/{id}/heartbeat`. */
  @Post('heartbeat')
  @HttpCode(200)
  heartbeat(@Body(ContractPipe.of(DiscoveryHeartbeatDto)) body: DiscoveryHeartbeatDto): Promise<DiscoveryHeartbeatResponse> {
    return goneAtEdge(this.discovery.heartbeat(body.service_name, body.instance_id));
  }

  @Delete('unregister/:service_name/:instance_id')
  unregister(@Param('service_name') serviceName: string, @Param('instance_id') instanceId: string): Promise<DiscoveryUnregisterResponse> {
    return this.discovery.unregister(serviceName, instanceId);
  }

  @Get('services')
  services(): Promise<DiscoveryServicesResponse> {
    return this.discovery.services();
  }

  @Get('services/:service_name')
  instances(@Param('service_name') serviceName: string): Promise<DiscoveryInstancesResponse> {
    return this.discovery.instancesOf(serviceName, false);
  }

  @Get('services/:service_name/healthy')
  healthy(@Param('service_name') serviceName: string): Promise<DiscoveryInstancesResponse> {
    return this.discovery.instancesOf(serviceName, true);
  }
}
