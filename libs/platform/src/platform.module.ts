import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { LoggerModule } from 'nestjs-pino';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { accessLogOptions } from './logging/access-log';
import { createLogger } from './logging/logger';
import { MetricsService } from './metrics/metrics.service';
import { NatsService } from './nats/nats.service';
import { PLATFORM_OPTIONS, ROOT_LOGGER, type PlatformOptions } from './platform.options';

/** Drains NATS once the HTTP server has stopped taking requests. */
class NatsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(NatsService) private readonly nats: NatsService) {}

  async onApplicationShutdown(): Promise<void> {
    await this.nats.drain();
  }
}

/** The NATS connection (connected, and the event stream prepared as the app's duty says, before the app starts) and its shutdown. */
function natsProviders(options: PlatformOptions, logger: Logger, metrics: MetricsService): Provider[] {
  return [
    {
      provide: NatsService,
      useFactory: () =>
        NatsService.connect(options.appName, options.env, logger.child({ component: 'nats' }), metrics, options.eventStream),
    },
    {
      provide: NatsLifecycle,
      useFactory: (nats: NatsService) => new NatsLifecycle(nats),
      inject: [NatsService],
    },
  ];
}

/**
 * Everything an app shares, provided globally: options, root logger, metrics, the NATS
 * connection (connected, with the app's part for the event stream done, before it starts),
 * health/readiness, and the `/health`, `/ready`, `/metrics` routes.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const logger = createLogger(options.appName, options.env);
    const metrics = new MetricsService(options.appName);
    return {
      module: PlatformModule,
      // Access logs cost a child logger per request: only when asked for.
      imports: options.env.LOG_HTTP ? [LoggerModule.forRoot({ pinoHttp: accessLogOptions(logger) })] : [],
      controllers: [HealthController],
      providers: [
        { provide: PLATFORM_OPTIONS, useValue: options },
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: MetricsService, useValue: metrics },
        ...(options.nats === false ? [] : natsProviders(options, logger, metrics)),
        {
          provide: HealthService,
          useFactory: (nats: NatsService | undefined) => {
            const health = new HealthService(options);
            if (nats) health.addReadinessCheck('nats', () => nats.connected);
            return health;
          },
          inject: [{ token: NatsService, optional: true }],
        },
      ],
      exports: [PLATFORM_OPTIONS, ROOT_LOGGER, MetricsService, HealthService, ...(options.nats === false ? [] : [NatsService])],
    };
  }
}
