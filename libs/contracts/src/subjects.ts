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

  registrySnapshot: 'beacon.registry.snapshot',
  registryExpire: 'beacon.registry.expire',
  registrySweep: 'beacon.registry.sweep',
  registryPurge: 'beacon.registry.purge',
  proberCheck: 'beacon.prober.check',
  mdnsStatus: 'beacon.mdns.status',
  electorStatus: 'beacon.elector.status',
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
] as const satisfies readonly Subject[];

/** A subject whose events `BEACON_EVENTS` keeps. */
export type StreamSubject = (typeof STREAM_SUBJECTS)[number];

/** Queue groups: replicas of one app share request subjects. */
export const QueueGroups = {
  registryApi: 'beacon.registry-api',
  healthProber: 'beacon.health-prober',
} as const;
