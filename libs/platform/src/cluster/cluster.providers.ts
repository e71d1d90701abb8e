import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { CatalogView } from '../catalog/catalog-view';
import { HealthService } from '../health/health.service';
import { NatsService } from '../nats/nats.service';
import { ROOT_LOGGER } from '../platform.options';
import { Membership } from './membership';

/** Starts the view in the background (readiness waits for its first sync) and stops it. */
@Injectable()
class CatalogViewLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CatalogView) private readonly view: CatalogView,
    @Inject(HealthService) health: HealthService,
  ) {
    health.addReadinessCheck('catalog_view', () => view.ready);
  }

  onApplicationBootstrap(): void {
    void this.view.start();
  }

  onApplicationShutdown(): void {
    this.view.stop();
  }
}

/** Joins before the app starts working, and says goodbye first thing on shutdown. */
@Injectable()
class MembershipLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(Membership) private readonly membership: Membership) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.membership.start();
  }

  onApplicationShutdown(): void {
    this.membership.stop();
  }
}

/** A `CatalogView` for the app, kept in sync from its start to its shutdown. */
export function catalogViewProviders(resyncIntervalSeconds: number): Provider[] {
  return [
    {
      provide: CatalogView,
      useFactory: (nats: NatsService, logger: Logger) =>
        new CatalogView(nats, logger.child({ component: 'catalog-view' }), { resyncIntervalMs: resyncIntervalSeconds * 1000 }),
      inject: [NatsService, ROOT_LOGGER],
    },
    CatalogViewLifecycle,
  ];
}

/** This replica's `Membership` among the replicas of `app`. */
export function membershipProviders(app: string, memberId: string): Provider[] {
  return [
    {
      provide: Membership,
      useFactory: (nats: NatsService, logger: Logger) =>
        new Membership(nats, logger.child({ component: 'membership' }), { app, memberId }),
      inject: [NatsService, ROOT_LOGGER],
    },
    MembershipLifecycle,
  ];
}
