import { PlatformModule, catalogViewProviders, membershipProviders } from '@beacon/platform';
import { Module, type DynamicModule } from '@nestjs/common';
import { PROBER_ENV, type ProberEnv } from './config';

@Module({})
export class AppModule {
  static forRoot(config: ProberEnv, version: string): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ appName: 'health-prober', version, env: config })],
      providers: [
        { provide: PROBER_ENV, useValue: config },
        ...catalogViewProviders(config.BEACON_RESYNC_INTERVAL),
        ...membershipProviders('health-prober', config.MEMBER_ID),
      ],
    };
  }
}
