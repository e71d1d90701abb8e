import { PlatformModule } from '@beacon/platform';
import { Module, type DynamicModule } from '@nestjs/common';
import { ELECTOR_ENV, type ElectorEnv } from './config';
import { DiscoveryController } from './discovery.controller';
import { electionProviders } from './election/election.providers';
import { ElectorService } from './elector.service';

@Module({})
export class AppModule {
  static forRoot(config: ElectorEnv, version: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ appName: 'node-role-elector', version, env: config, nats: config.useNats, eventStream: 'create' }),
      ],
      controllers: [DiscoveryController],
      providers: [{ provide: ELECTOR_ENV, useValue: config }, ...electionProviders, ElectorService],
    };
  }
}
