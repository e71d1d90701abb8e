import { DELIVERY_STATUSES, WEBHOOK_ALL_EVENTS, WEBHOOK_EVENT_TYPES, WEBHOOK_FORMATS } from '@beacon/contracts';
import type { ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { WEBHOOK_LIMITS } from './webhook.dto';

const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
const text: SchemaObject = { type: 'string' };
const orNull = (schema: SchemaObject): SchemaObject => ({ ...schema, nullable: true });
const timestamp: SchemaObject = { type: 'string', format: 'date-time' };
const integer: SchemaObject = { type: 'integer' };
const object = (properties: Record<string, SchemaObject | ReferenceObject>, description?: string): SchemaObject => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  ...(description ? { description } : {}),
});

const WEBHOOK_PROPERTIES: Record<string, SchemaObject> = {
  webhook_id: { type: 'string', format: 'uuid' },
  url: { type: 'string', description: 'masked: user info password, query values, and the Slack/Discord token path segment show as ***' },
  events: { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES, WEBHOOK_ALL_EVENTS] } },
  format: { type: 'string', enum: [...WEBHOOK_FORMATS] },
  service_id: orNull(text),
  type: orNull(text),
  tags: { type: 'array', items: text },
  description: orNull(text),
  has_secret: { type: 'boolean', description: 'the secret itself is never returned' },
  enabled: { type: 'boolean' },
  created_at: timestamp,
  updated_at: timestamp,
};

/** The webhook routes' response bodies (`components.schemas`), beside the app's own. */
export const WEBHOOK_SCHEMAS: Record<string, SchemaObject> = {
  Webhook: object(WEBHOOK_PROPERTIES),
  WebhookList: object({ webhooks: { type: 'array', items: ref('Webhook') }, total: integer, limit: integer, skip: integer }),
  WebhookDelivery: object({
    delivery_id: text,
    webhook_id: text,
    event_type: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES, 'incident_reminder', 'test'] },
    status: { type: 'string', enum: [...DELIVERY_STATUSES] },
    attempts: integer,
    status_code: orNull(integer),
    last_error: orNull(text),
    latency_ms: orNull({ type: 'number' }),
    event_at: timestamp,
    updated_at: timestamp,
  }),
  WebhookDeliveryList: object({ deliveries: { type: 'array', items: ref('WebhookDelivery') } }, 'newest first'),
};

const BODY_LIMIT = `Request body is larger than ${WEBHOOK_LIMITS.bodyBytes} bytes`;
const NOT_FOUND = { 404: 'No such webhook' } as const;
const LIST_FULL = 'BEACON_MAX_WEBHOOKS webhooks exist already, or all webhooks together would exceed 768 KiB (one NATS message)';

/** Each webhook route's documentation, by Nest's operation id (see openapi.ts `OPERATIONS`). */
export const WEBHOOK_OPERATIONS = {
  WebhooksController_create: {
    body: 'WebhookBodyDto',
    status: 201,
    response: 'Webhook',
    bodyLimit: BODY_LIMIT,
    refusals: [429],
    refusalTexts: { 429: LIST_FULL },
    summary:
      'Create a webhook (201 with its webhook_id). The URL must be http(s) and pass the SSRF policy ' +
      '(PROBE_DENY_CIDRS / PROBE_ALLOW_CIDRS); the secret is never returned',
  },
  WebhooksController_list: { response: 'WebhookList', summary: 'Webhooks, oldest first (?limit=, ?skip=); URLs masked, no secrets' },
  WebhooksController_get: { response: 'Webhook', refusals: [404], refusalTexts: NOT_FOUND, noInput: true, summary: 'One webhook' },
  WebhooksController_replace: {
    body: 'WebhookBodyDto',
    response: 'Webhook',
    bodyLimit: BODY_LIMIT,
    refusals: [404, 429],
    refusalTexts: { ...NOT_FOUND, 429: LIST_FULL },
    summary:
      'Replace a webhook definition: an omitted secret keeps the stored one, secret: null removes it, ' +
      'and the masked URL the API showed keeps the stored URL',
  },
  WebhooksController_delete: {
    status: 204,
    refusals: [404],
    refusalTexts: NOT_FOUND,
    noInput: true,
    summary: 'Delete a webhook and its delivery log (204)',
  },
  WebhooksController_deliveries: {
    response: 'WebhookDeliveryList',
    refusals: [404],
    refusalTexts: NOT_FOUND,
    summary: 'The delivery log, newest first (?limit= up to 200, default 50; ?status=delivered|retrying|failed)',
  },
  WebhooksController_test: {
    response: 'WebhookDelivery',
    refusals: [404, 503, 504],
    refusalTexts: {
      ...NOT_FOUND,
      503: 'No deliverer (realtime-gateway) is running, or it could not send the sample',
      504: 'realtime-gateway did not answer in time',
    },
    noInput: true,
    summary: 'Send the webhook a sample event now, through realtime-gateway; answers that delivery',
  },
} as const;
