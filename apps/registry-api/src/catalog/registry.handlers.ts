import {
  ExpireRequest,
  PurgeRequest,
  QueueGroups,
  SnapshotRequest,
  Subjects,
  SweepRequest,
  WIRE_VERSION,
  type Service,
  type SnapshotReply,
} from '@beacon/contracts';
import { NatsService, RequestError } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { InvalidCursorError, SERVICE_STORE, type ServiceStore } from '../store/service-store';
import { CatalogService } from './catalog.service';
import { toWire } from './service-record';

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
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
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
        return expiresAt === null ? { v: WIRE_VERSION, expired } : { v: WIRE_VERSION, expired, expires_at: new Date(expiresAt).toISOString() };
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

  /** One page, cut short if it would outgrow the reply size bound (a record may carry 64 KiB). */
  private async snapshot(request: SnapshotRequest): Promise<SnapshotReply> {
    const limit = request.limit ?? DEFAULT_SNAPSHOT_LIMIT;
    let page;
    try {
      page = await this.store.snapshotPage(request.after ?? null, limit);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new RequestError('bad_request', error.message);
      throw error;
    }
    const now = Date.now();
    const services: Service[] = [];
    let bytes = 0;
    for (const [index, record] of page.records.entries()) {
      const service = toWire(record, now);
      bytes += Buffer.byteLength(JSON.stringify(service));
      if (services.length > 0 && bytes > this.config.BEACON_SNAPSHOT_PAGE_BYTES) {
        const lastIncluded = page.records[index - 1] as (typeof page.records)[number];
        return { v: WIRE_VERSION, revision: page.revision, services, next: this.store.snapshotCursor(lastIncluded) };
      }
      services.push(service);
    }
    return { v: WIRE_VERSION, revision: page.revision, services, next: page.next };
  }
}
