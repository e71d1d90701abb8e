import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SERVICE_STORE, type ServiceStore, type StoreHandle } from '../store/service-store';
import { MongoWebhookStore } from './mongo-webhook-store';
import { SqliteWebhookStore } from './sqlite-webhook-store';
import type { WebhookStore } from './webhook-store';

/** The webhook store for the catalog store's database. */
export function adapterFor(handle: StoreHandle): WebhookStore {
  return handle.backend === 'sqlite' ? new SqliteWebhookStore(handle.db) : new MongoWebhookStore(handle.db);
}

/**
 * Opens the webhook tables in the catalog's database once the catalog store is open. The
 * store is provided by the app's root module, which a feature module cannot inject from,
 * so it is looked up in the whole container here, after every provider exists.
 */
@Injectable()
export class WebhookStoreRef implements OnModuleInit {
  private opened: WebhookStore | null = null;

  constructor(@Inject(ModuleRef) private readonly modules: ModuleRef) {}

  async onModuleInit(): Promise<void> {
    const catalog = this.modules.get<ServiceStore>(SERVICE_STORE, { strict: false });
    const store = adapterFor(catalog.handle);
    await store.open();
    this.opened = store;
  }

  get store(): WebhookStore {
    if (!this.opened) throw new Error('the webhook store is used before it was opened');
    return this.opened;
  }
}
