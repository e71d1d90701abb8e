import { NatsService, ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { SERVICE_STORE, type ServiceStore } from './service-store';
import { SqliteStore } from './sqlite/sqlite-store';

export function chosenBackend(config: RegistryEnv): 'sqlite' | 'mongodb' {
  if (config.BEACON_STORE !== 'auto') return config.BEACON_STORE;
  return config.BEACON_MONGODB_URL ? 'mongodb' : 'sqlite';
}

async function openStore(config: RegistryEnv, logger: Logger): Promise<ServiceStore> {
  if (chosenBackend(config) === 'mongodb') {
    if (!config.BEACON_MONGODB_URL) throw new Error('BEACON_STORE=mongodb needs BEACON_MONGODB_URL');
    // Loaded only when used: the embedded setup never pays for the Mongo driver.
    const { MongoStore } = await import('./mongo/mongo-store');
    const { writeConcernOf } = await import('./mongo/mongo-query');
    const writeConcern = writeConcernOf(config.BEACON_MONGODB_WRITE_CONCERN, config.BEACON_MONGODB_JOURNAL);
    const store = await MongoStore.connect(config.BEACON_MONGODB_URL, {
      writeConcern,
      maxServices: config.BEACON_MAX_SERVICES,
      pingsPerService: config.BEACON_PINGS_PER_SERVICE,
      tombstoneMax: config.BEACON_TOMBSTONE_MAX,
    });
    logger.info({ write_concern: writeConcern }, 'catalog store: MongoDB');
    return store;
  }
  const store = new SqliteStore({
    path: config.BEACON_SQLITE_PATH,
    synchronous: config.BEACON_SQLITE_SYNCHRONOUS,
    maxServices: config.BEACON_MAX_SERVICES,
    outboxMaxEvents: config.BEACON_OUTBOX_MAX_EVENTS,
    pingsPerService: config.BEACON_PINGS_PER_SERVICE,
    tombstoneMax: config.BEACON_TOMBSTONE_MAX,
  });
  logger.info({ path: config.BEACON_SQLITE_PATH }, 'catalog store: SQLite');
  return store;
}

export const storeProvider: Provider = {
  provide: SERVICE_STORE,
  useFactory: (config: RegistryEnv, logger: Logger) => openStore(config, logger),
  inject: [REGISTRY_ENV, ROOT_LOGGER],
};

/** Closes the store last: after HTTP has stopped and NATS handlers have drained. */
@Injectable()
export class StoreLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
    @Inject(NatsService) private readonly nats: NatsService,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.nats.drain();
    await this.store.close();
  }
}
