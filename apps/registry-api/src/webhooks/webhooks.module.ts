import { SsrfGuard } from '@beacon/platform';
import { Module, type DynamicModule } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { DeliveryLog } from './delivery-log';
import { WebhookBodyPipe } from './webhook-body.pipe';
import { WebhookStoreRef } from './webhook-store.provider';
import { WebhooksController } from './webhooks.controller';
import { WebhooksHandlers } from './webhooks.handlers';
import { WebhooksService } from './webhooks.service';

/** Webhooks: their API, their table beside the catalog, and registry-api's side of their delivery. */
@Module({})
export class WebhooksModule {
  static forRoot(config: RegistryEnv): DynamicModule {
    return {
      module: WebhooksModule,
      controllers: [WebhooksController],
      providers: [
        { provide: REGISTRY_ENV, useValue: config },
        { provide: SsrfGuard, useValue: new SsrfGuard({ deny: config.PROBE_DENY_CIDRS, allow: config.PROBE_ALLOW_CIDRS }) },
        WebhookStoreRef,
        WebhookBodyPipe,
        DeliveryLog,
        WebhooksService,
        WebhooksHandlers,
      ],
    };
  }
}
