import { AUTH_SETTINGS, BearerAuthGuard, HealthService, PlatformModule, type AuthSettings } from '@beacon/platform';
import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CatalogService } from './catalog/catalog.service';
import { ProbeResultsConsumer } from './catalog/probe-results.consumer';
import { CatalogMetrics } from './catalog/catalog.metrics';
import { RegistryHandlers } from './catalog/registry.handlers';
import { ServicesController } from './catalog/services.controller';
import { REGISTRY_ENV, type RegistryEnv } from './config';
import { DiscoveryController } from './discovery/discovery.controller';
import { DiscoveryService } from './discovery/discovery.service';
import { ExportController } from './export/export.controller';
import { ExportService } from './export/export.service';
import { ImportBodyLimit } from './export/import-body-limit';
import { IncidentsController } from './incidents/incidents.controller';
import { IncidentsService } from './incidents/incidents.service';
import { UptimeController } from './uptime/uptime.controller';
import { UptimeService } from './uptime/uptime.service';
import { RegistryHealthController } from './health/registry-health.controller';
import { OutboxPublisher } from './outbox/outbox.publisher';
import { StatsController } from './stats/stats.controller';
import { StatsService } from './stats/stats.service';
import { SERVICE_STORE, type ServiceStore } from './store/service-store';
import { StoreLifecycle, storeProvider } from './store/store.provider';
import { WebhooksModule } from './webhooks/webhooks.module';

/** Makes readiness include the store. */
class StoreReadiness implements OnModuleInit {
  constructor(
    @Inject(HealthService) private readonly health: HealthService,
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
  ) {}

  onModuleInit(): void {
    this.health.addReadinessCheck('store', async () => {
      await this.store.ping();
      return true;
    });
  }
}

@Module({})
export class AppModule {
  static forRoot(config: RegistryEnv, version: string): DynamicModule {
    const auth: AuthSettings = { tokens: config.BEACON_AUTH_TOKEN, guardReads: config.BEACON_AUTH_READS };
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ appName: 'registry-api', version, env: config, eventStream: 'provision' }),
        WebhooksModule.forRoot(config),
      ],
      controllers: [
        ServicesController,
        DiscoveryController,
        StatsController,
        RegistryHealthController,
        ExportController,
        IncidentsController,
        UptimeController,
      ],
      providers: [
        { provide: REGISTRY_ENV, useValue: config },
        { provide: AUTH_SETTINGS, useValue: auth },
        { provide: APP_GUARD, useClass: BearerAuthGuard },
        storeProvider,
        StoreLifecycle,
        StoreReadiness,
        OutboxPublisher,
        IncidentsService,
        CatalogService,
        UptimeService,
        RegistryHandlers,
        ProbeResultsConsumer,
        CatalogMetrics,
        DiscoveryService,
        StatsService,
        ExportService,
        ImportBodyLimit,
      ],
    };
  }
}
