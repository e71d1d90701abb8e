import { DomainError } from '@beacon/platform';

/** Webhooks' refusals, mapped to HTTP statuses by kind at the edge (see `DomainError`). */

export class WebhookNotFound extends DomainError {
  readonly kind = 'not_found';
  constructor(webhookId: string) {
    super(`Webhook ${webhookId} not found`);
  }
}

/** A new webhook while `BEACON_MAX_WEBHOOKS` exist. */
export class WebhooksFull extends DomainError {
  readonly kind = 'limited';
  constructor(limit: number) {
    super(`There are ${limit} webhooks already (BEACON_MAX_WEBHOOKS): delete one before creating another`);
  }
}

/** The deliverers' list of every webhook (one NATS reply) would no longer fit in a NATS message. */
export class WebhooksTooLarge extends DomainError {
  readonly kind = 'limited';
  constructor(budget: number) {
    super(
      `The webhooks together would take more than ${budget} bytes in the list realtime-gateway reads in one NATS message: ` +
        'delete webhooks or shorten their URLs, tags or descriptions',
    );
  }
}

/** No realtime-gateway answered a test request, or it could not send the sample. */
export class DelivererUnavailable extends DomainError {
  readonly kind = 'unavailable';
}

export class DelivererTimeout extends DomainError {
  readonly kind = 'timeout';
  constructor(webhookId: string, timeoutMs: number) {
    super(`realtime-gateway did not answer the test of webhook ${webhookId} within ${timeoutMs / 1000} s`);
  }
}
