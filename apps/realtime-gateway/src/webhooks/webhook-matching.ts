import { WEBHOOK_ALL_EVENTS, WEBHOOK_EVENT_TYPES, type Service, type WebhookTarget } from '@beacon/contracts';

const DELIVERABLE = new Set<string>([...WEBHOOK_EVENT_TYPES, 'incident_reminder']);

/** The subscription that receives an event of live type `type`: reminders go to those who asked for `incident_opened`. */
function subscribedAs(type: string): string {
  return type === 'incident_reminder' ? 'incident_opened' : type;
}

/**
 * Whether `webhook` gets an event of live type `type` about `service`: enabled, subscribed
 * to the type (or `*`), and every filter it sets holds (`service_id`, `type`, all of `tags`).
 * An event about no service passes only webhooks without filters.
 */
export function wants(webhook: WebhookTarget, type: string, service: Service | null): boolean {
  if (!webhook.enabled || !DELIVERABLE.has(type)) return false;
  if (!webhook.events.includes(WEBHOOK_ALL_EVENTS) && !(webhook.events as string[]).includes(subscribedAs(type))) return false;
  const filtered = webhook.service_id !== null || webhook.type !== null || webhook.tags.length > 0;
  if (!filtered) return true;
  if (!service) return false;
  if (webhook.service_id !== null && webhook.service_id !== service.service_id) return false;
  if (webhook.type !== null && webhook.type !== service.type) return false;
  return webhook.tags.every((tag) => service.tags.includes(tag));
}
