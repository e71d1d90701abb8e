import {
  ExpireRequest,
  PurgeRequest,
  QueueGroups,
  SnapshotRequest,
  Subjects,
  SweepRequest,
  WIRE_VERSION,
  type SnapshotReply,
} from '@beacon/contracts';
import { NatsService } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { CatalogService } from './catalog.service';

const DEFAULT_SNAPSHOT_LIMIT = 500;

/**
 * registry-api's NATS requests, answered in a queue group so replicas share them.
 * Thin: validate (NatsService does, with the contract classes), call the catalog, reply.
 */
@Injectable()
export class RegistryHandlers implements OnApplicationBootstrap {
  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(CatalogService) private readonly catalog: CatalogService,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
  ) {}

  onApplicationBootstrap(): void {
    const queue = QueueGroups.registryApi;
    this.nats.serve(Subjects.registrySnapshot, SnapshotRequest, (request) => this.snapshot(request), { queue });
    this.nats.serve(
      Subjects.registryExpire,
      ExpireRequest,
      async (request) => {
        const { expired, expiresAt } = await this.catalog.expire(request.service_id, Date.parse(request.expires_at));
        return expiresAt === null
          ? { v: WIRE_VERSION, expired }
          : { v: WIRE_VERSION, expired, expires_at: new Date(expiresAt).toISOString() };
      },
      { queue },
    );
    this.nats.serve(
      Subjects.registrySweep,
      SweepRequest,
      async (request) => ({ v: WIRE_VERSION, expired: await this.catalog.sweep(request.now ? Date.parse(request.now) : undefined) }),
      { queue },
    );
    this.nats.serve(
      Subjects.registryPurge,
      PurgeRequest,
      async (request) => ({ v: WIRE_VERSION, removed: await this.catalog.purge(Date.parse(request.older_than)) }),
      { queue },
    );
  }

  /** One page, bounded by the reply size (an unknown cursor is refused as a bad request). */
  private async snapshot(request: SnapshotRequest): Promise<SnapshotReply> {
    const limit = request.limit ?? DEFAULT_SNAPSHOT_LIMIT;
    const slice = await this.catalog.snapshot(request.after ?? null, limit, this.config.BEACON_SNAPSHOT_PAGE_BYTES);
    return { v: WIRE_VERSION, ...slice };
  }
}
