/**
 * Every NATS subject Beacon uses. No subject string appears anywhere else.
 * Payload types per subject are in `events.ts` (`EventPayloads`) and
 * `registry-requests.ts` (`RequestReplies`), so a wrong payload fails to compile.
 */
export const Subjects = {
  serviceRegistered: 'beacon.events.service.registered',
  serviceUpdated: 'beacon.events.service.updated',
  serviceRenewed: 'beacon.events.service.renewed',
  serviceDeregistered: 'beacon.events.service.deregistered',
  serviceExpired: 'beacon.events.service.expired',
  serviceHealthChanged: 'beacon.events.service.health_changed',
  serviceCriticalLoad: 'beacon.events.service.critical_load',
  probeResult: 'beacon.events.probe.result',
  nodeRoleChanged: 'beacon.events.node.role_changed',
  incidentOpened: 'beacon.events.incident.opened',
  incidentResolved: 'beacon.events.incident.resolved',
  incidentAcknowledged: 'beacon.events.incident.acknowledged',
  /** An open, unacknowledged incident still open after the repeat interval (webhooks on `incident_opened` get it). */
  incidentReminder: 'beacon.events.incident.reminder',

  registrySnapshot: 'beacon.registry.snapshot',
  registryExpire: 'beacon.registry.expire',
  registrySweep: 'beacon.registry.sweep',
  registryPurge: 'beacon.registry.purge',
  proberCheck: 'beacon.prober.check',
  mdnsStatus: 'beacon.mdns.status',
  electorStatus: 'beacon.elector.status',

  /** realtime-gateway asks registry-api for every webhook, URL and secret in full. */
  registryWebhooks: 'beacon.registry.webhooks',
  /** registry-api tells deliverers a webhook was created, changed or deleted. */
  webhooksChanged: 'beacon.webhooks.changed',
  /** A deliverer reports one delivery's latest outcome; registry-api keeps the log. */
  webhookDelivery: 'beacon.webhooks.delivery',
  /** registry-api asks a deliverer to send a webhook a sample now (`POST /webhooks/{id}/test`). */
  webhookTest: 'beacon.webhooks.test',
  /** Deliveries waiting or retrying: the subject of the `BEACON_WEBHOOKS` work queue. */
  webhookJobs: 'beacon.webhooks.jobs',
} as const;

export type Subject = (typeof Subjects)[keyof typeof Subjects];

/**
 * Where replicas of an app announce themselves (membership for sharding), e.g.
 * `beacon.members.health-prober`.
 */
export function membersSubject<A extends string>(app: A): MembersSubject<A> {
  return `beacon.members.${app}`;
}

export type MembersSubject<A extends string = string> = `beacon.members.${A}`;

/** Wildcard for every incident event. */
export const INCIDENT_EVENTS_WILDCARD = 'beacon.events.incident.*';

/** Wildcard for every catalog event about a service. */
export const SERVICE_EVENTS_WILDCARD = 'beacon.events.service.*';

/** What every event subject starts with; the rest of it is the event's `type` (see `eventTypeOf`). */
export const EVENT_SUBJECT_PREFIX = 'beacon.events.';

/** The JetStream stream that keeps catalog changes for replay. */
export const EVENTS_STREAM = 'BEACON_EVENTS';

/**
 * Subjects the stream stores. Listed explicitly: the high-volume `renewed` (every
 * heartbeat) and `probe.result` (every check) stay core-NATS only.
 */
export const STREAM_SUBJECTS = [
  Subjects.serviceRegistered,
  Subjects.serviceUpdated,
  Subjects.serviceDeregistered,
  Subjects.serviceExpired,
  Subjects.serviceHealthChanged,
  Subjects.serviceCriticalLoad,
  Subjects.nodeRoleChanged,
  Subjects.incidentOpened,
  Subjects.incidentResolved,
  Subjects.incidentAcknowledged,
  Subjects.incidentReminder,
] as const satisfies readonly Subject[];

/** A subject whose events `BEACON_EVENTS` keeps. */
export type StreamSubject = (typeof STREAM_SUBJECTS)[number];

/** The JetStream work queue of webhook deliveries (one message per event and webhook). */
export const WEBHOOKS_STREAM = 'BEACON_WEBHOOKS';

/** Queue groups: replicas of one app share request subjects. */
export const QueueGroups = {
  registryApi: 'beacon.registry-api',
  healthProber: 'beacon.health-prober',
  realtimeGateway: 'beacon.realtime-gateway',
} as const;
