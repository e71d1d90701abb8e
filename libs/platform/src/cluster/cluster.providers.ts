import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
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

/**
 * Joins at bootstrap (work waits for `membership.ready`), and says goodbye before the
 * app winds down its work, so peers take over while in-flight work finishes here.
 * Readiness includes having joined: until then the replica does not know which share of
 * the work (deadlines, checks) is its own, and does none.
 */
@Injectable()
class MembershipLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private joined = false;

  constructor(
    @Inject(Membership) private readonly membership: Membership,
    @Inject(HealthService) health: HealthService,
  ) {
    void membership.ready.then(() => {
      this.joined = true;
    });
    health.addReadinessCheck('membership', () => this.joined);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.membership.start();
  }

  beforeApplicationShutdown(): void {
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
      useFactory: (nats: NatsService, logger: Logger) => new Membership(nats, logger.child({ component: 'membership' }), { app, memberId }),
      inject: [NatsService, ROOT_LOGGER],
    },
    MembershipLifecycle,
  ];
}
