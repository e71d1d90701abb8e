import { PlatformModule } from '@beacon/platform';
import { Module, type DynamicModule } from '@nestjs/common';
import { ELECTOR_ENV, type ElectorEnv } from './config';

@Module({})
export class AppModule {
  static forRoot(config: ElectorEnv, version: string): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ appName: 'node-role-elector', version, env: config })],
      providers: [{ provide: ELECTOR_ENV, useValue: config }],
    };
  }
}
