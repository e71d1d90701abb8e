import { QueueGroups, Subjects, WIRE_VERSION } from '@beacon/contracts';
import { NatsService } from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from 'nats';
import { DeliveryLog } from './delivery-log';
import { WebhooksService } from './webhooks.service';

/**
 * registry-api's side of webhook delivery on NATS, in its queue group so replicas share it:
 * the deliverers' request for every webhook in full, and their delivery reports, which go
 * to the log. Only realtime-gateway may send either (libs/contracts nats-permissions.ts).
 */
@Injectable()
export class WebhooksHandlers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private reports: Subscription | null = null;

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(WebhooksService) private readonly webhooks: WebhooksService,
    @Inject(DeliveryLog) private readonly log: DeliveryLog,
  ) {}

  onApplicationBootstrap(): void {
    const queue = QueueGroups.registryApi;
    this.nats.serve(Subjects.registryWebhooks, null, async () => ({ v: WIRE_VERSION, webhooks: await this.webhooks.targets() }), {
      queue,
    });
    this.reports = this.nats.subscribe(Subjects.webhookDelivery, (report) => this.log.add(report.delivery), { queue });
  }

  /** Before the app's shutdown closes NATS and then the store: take no more reports, and write those waiting. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.reports?.drain().catch(() => undefined);
    await this.log.flush();
  }
}
