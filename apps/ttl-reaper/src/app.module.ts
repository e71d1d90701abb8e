import { HealthService, Membership, PlatformModule, catalogViewProviders, membershipProviders } from '@beacon/platform';
import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { REAPER_ENV, type ReaperEnv } from './config';
import { ReaperService } from './reaper.service';

/**
 * Readiness includes having joined the reapers' membership (besides NATS and the catalog
 * view, which the platform registers): until then this replica does not know which
 * deadlines are its own, and expires nothing.
 */
@Injectable()
class MembershipReadiness {
  private joined = false;

  constructor(@Inject(HealthService) health: HealthService, @Inject(Membership) membership: Membership) {
    void membership.ready.then(() => {
      this.joined = true;
    });
    health.addReadinessCheck('membership', () => this.joined);
  }
}

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
        MembershipReadiness,
      ],
    };
  }
}
