import { HealthService, PlatformModule, catalogViewProviders } from '@beacon/platform';
import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ConnectionCapacity } from './clients/capacity';
import { GatewayMetrics } from './clients/gateway.metrics';
import { Hub } from './clients/hub';
import { GATEWAY_ENV, type GatewayEnv } from './config';
import { DashboardController } from './dashboard/dashboard.controller';
import { SessionController } from './dashboard/session.controller';
import { EventFeed } from './feed/event-feed';
import { EventsController } from './sse/events.controller';
import { WebhookDirectory } from './webhooks/webhook-directory';
import { WebhookMetrics } from './webhooks/webhooks.metrics';
import { WebhooksService } from './webhooks/webhooks.service';
import { EventsGateway } from './ws/events.gateway';

/** Readiness includes the event feed (JetStream). */
class FeedReadiness implements OnModuleInit {
  constructor(
    @Inject(HealthService) private readonly health: HealthService,
    @Inject(EventFeed) private readonly feed: EventFeed,
  ) {}

  onModuleInit(): void {
    this.health.addReadinessCheck('event_feed', () => this.feed.ready);
  }
}

@Module({})
export class AppModule {
  static forRoot(config: GatewayEnv, version: string): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ appName: 'realtime-gateway', version, env: config })],
      controllers: [EventsController, SessionController, DashboardController],
      providers: [
        { provide: GATEWAY_ENV, useValue: config },
        ...catalogViewProviders(config.BEACON_RESYNC_INTERVAL),
        EventFeed,
        GatewayMetrics,
        {
          provide: ConnectionCapacity,
          inject: [GatewayMetrics],
          useFactory: (metrics: GatewayMetrics) =>
            new ConnectionCapacity(
              { maxClients: config.GATEWAY_MAX_CLIENTS, maxPerAddress: config.GATEWAY_MAX_CLIENTS_PER_ADDRESS },
              (reason) => metrics.connectionRefused(reason),
            ),
        },
        Hub,
        EventsGateway,
        FeedReadiness,
        WebhookMetrics,
        WebhookDirectory,
        WebhooksService,
      ],
    };
  }
}
