import { HealthService, PlatformModule, catalogViewProviders } from '@beacon/platform';
import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { AnnouncerService } from './announcer.service';
import { ANNOUNCER_ENV, type AnnouncerEnv } from './config';

/**
 * Readiness includes the mDNS responders (besides NATS and the catalog view, which the
 * platform registers): a socket that failed answers nothing. With no LAN interface at all the
 * announcer stays ready: NATS and the catalog are fine, there is just nowhere to answer yet,
 * and a launcher waiting for every app to be ready must not hang on a box whose Wi-Fi is late.
 */
@Injectable()
class ResponderReadiness {
  constructor(@Inject(HealthService) health: HealthService, @Inject(AnnouncerService) announcer: AnnouncerService) {
    health.addReadinessCheck('mdns_responder', () => announcer.responding);
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AnnouncerEnv, version: string): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ appName: 'mdns-announcer', version, env: config })],
      providers: [
        { provide: ANNOUNCER_ENV, useValue: config },
        ...catalogViewProviders(config.BEACON_RESYNC_INTERVAL),
        AnnouncerService,
        ResponderReadiness,
      ],
    };
  }
}
