import { PlatformModule, catalogViewProviders } from '@beacon/platform';
import { Module, type DynamicModule } from '@nestjs/common';
import { AnnouncerService } from './announcer.service';
import { ANNOUNCER_ENV, type AnnouncerEnv } from './config';

@Module({})
export class AppModule {
  static forRoot(config: AnnouncerEnv, version: string): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ appName: 'mdns-announcer', version, env: config })],
      providers: [{ provide: ANNOUNCER_ENV, useValue: config }, ...catalogViewProviders(config.BEACON_RESYNC_INTERVAL), AnnouncerService],
    };
  }
}
