import { PlatformModule, catalogViewProviders, membershipProviders } from '@beacon/platform';
import { Module, type DynamicModule } from '@nestjs/common';
import { REAPER_ENV, type ReaperEnv } from './config';
import { ReaperService } from './reaper.service';

@Module({})
export class AppModule {
  static forRoot(config: ReaperEnv, version: string): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ appName: 'ttl-reaper', version, env: config })],
      providers: [
        { provide: REAPER_ENV, useValue: config },
        ...catalogViewProviders(config.BEACON_RESYNC_INTERVAL),
        ...membershipProviders('ttl-reaper', config.MEMBER_ID),
        ReaperService,
      ],
    };
  }
}
