import { PlatformModule, SsrfGuard, catalogViewProviders, membershipProviders } from '@beacon/platform';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CheckHandler } from './check.handler';
import { HttpCheck } from './checks/http-check';
import { TcpCheck } from './checks/tcp-check';
import { PROBER_ENV, type ProberEnv } from './config';
import { ProbeRunner } from './probe-runner';
import { ProberMetrics } from './prober.metrics';
import { ProberService } from './prober.service';

/** The checks and the one SSRF guard both of them go through. */
function checkProviders(config: ProberEnv, version: string): Provider[] {
  return [
    { provide: SsrfGuard, useValue: new SsrfGuard({ deny: config.PROBE_DENY_CIDRS, allow: config.PROBE_ALLOW_CIDRS }) },
    {
      provide: HttpCheck,
      useFactory: (guard: SsrfGuard) =>
        new HttpCheck(guard, { userAgent: `beacon-health-prober/${version}`, maxBodyBytes: config.PROBE_MAX_BODY_BYTES }),
      inject: [SsrfGuard],
    },
    { provide: TcpCheck, useFactory: (guard: SsrfGuard) => new TcpCheck(guard), inject: [SsrfGuard] },
  ];
}

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
        ...checkProviders(config, version),
        ProberMetrics,
        ProbeRunner,
        ProberService,
        CheckHandler,
      ],
    };
  }
}
