import type {
  DiscoveryHeartbeatResponse,
  DiscoveryInstance,
  DiscoveryInstancesResponse,
  DiscoveryRegisterDto,
  DiscoveryServicesResponse,
  DiscoveryUnregisterResponse,
} from '@beacon/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { InstanceNotFound, ServiceDeleted, ServiceNotFound } from '../catalog/catalog.errors';
import { CatalogService } from '../catalog/catalog.service';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { registrationOf, toInstance } from './instance-view';

/**
 * Seed 004's `/v1/discovery` on the one catalog. Mutations go through `CatalogService`,
 * so they are the same records, rules and events as `/api/v1/services`; this adds the
 * `(service_name, instance_id)` addressing and seed 004's instance view.
 */
@Injectable()
export class DiscoveryService {
  constructor(
    @Inject(CatalogService) private readonly catalog: CatalogService,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
  ) {}

  /** Registers, or updates the record already registered as `(service_name, instance_id)`. */
  async register(input: DiscoveryRegisterDto): Promise<DiscoveryInstance> {
    const service = await this.catalog.register(registrationOf(input));
    return toInstance(service, this.config.CRITICAL_LOAD_THRESHOLD) as DiscoveryInstance;
  }

  /** `ServiceDeleted` (410) for an instance an operator unregistered or deleted, while its tombstone lasts. */
  async heartbeat(serviceName: string, instanceId: string): Promise<DiscoveryHeartbeatResponse> {
    let service;
    try {
      service = await this.onInstance(serviceName, instanceId, (id) => this.catalog.heartbeat(id, undefined));
    } catch (error) {
      if (!(error instanceof InstanceNotFound)) throw error;
      const tombstone = await this.catalog.instanceTombstone(serviceName, instanceId);
      throw tombstone ? new ServiceDeleted(tombstone) : error;
    }
    return {
      message: 'Heartbeat received successfully',
      service_id: service.service_id,
      service_name: serviceName,
      instance_id: instanceId,
      status: service.status,
      expires_at: service.expires_at,
      last_heartbeat: service.last_heartbeat ?? service.updated_at,
    };
  }

  async unregister(serviceName: string, instanceId: string): Promise<DiscoveryUnregisterResponse> {
    const serviceId = await this.onInstance(serviceName, instanceId, async (id) => {
      await this.catalog.deregister(id, 'unregister');
      return id;
    });
    return { message: 'Service unregistered successfully', service_id: serviceId, service_name: serviceName, instance_id: instanceId };
  }

  async services(): Promise<DiscoveryServicesResponse> {
    const instances = await this.instances(null);
    const services: Record<string, DiscoveryInstance[]> = {};
    for (const instance of instances) (services[instance.service_name] ??= []).push(instance);
    return { services, total_services: Object.keys(services).length, total_instances: instances.length };
  }

  async instancesOf(serviceName: string, healthyOnly: boolean): Promise<DiscoveryInstancesResponse> {
    const all = await this.instances(serviceName);
    const instances = healthyOnly ? all.filter((instance) => instance.healthy) : all;
    return { service_name: serviceName, instances, total: instances.length };
  }

  private async instances(name: string | null): Promise<DiscoveryInstance[]> {
    const services = await this.catalog.liveInstances(name);
    return services.flatMap((service) => toInstance(service, this.config.CRITICAL_LOAD_THRESHOLD) ?? []);
  }

  /**
   * Runs `action` on the record registered as `(serviceName, instanceId)`; a 404 naming
   * the instance when there is none (also when it went away between lookup and action).
   */
  private async onInstance<T>(serviceName: string, instanceId: string, action: (serviceId: string) => Promise<T>): Promise<T> {
    const service = await this.catalog.findInstance(serviceName, instanceId);
    try {
      return await action(service.service_id);
    } catch (error) {
      throw error instanceof ServiceNotFound ? new InstanceNotFound(serviceName, instanceId) : error;
    }
  }
}
