import type { HealthState } from './enums';
import type { Incident, WebhookDelivery } from './monitoring';
import type { Service } from './service';
import { EVENT_SUBJECT_PREFIX, SERVICE_EVENTS_WILDCARD, Subjects, type MembersSubject, type StreamSubject } from './subjects';

/** Wire version of every event and reply document. */
export const WIRE_VERSION = 1 as const;

/** Why a service left the catalog. */
export type RemovalReason = 'deregistered' | 'purged' | 'superseded';

interface EventBase<T extends string> {
  v: typeof WIRE_VERSION;
  type: T;
  /** ISO 8601 UTC, when the owner published it. */
  timestamp: string;
  /** Catalog revision of the change; consumers apply an event only if it is newer. */
  revision: number;
}

/** A change to one service: the whole record after the change. */
export interface ServiceEvent<T extends ServiceEventType = ServiceEventType> extends EventBase<T> {
  service: Service;
}

export type ServiceEventType = 'service.registered' | 'service.updated' | 'service.renewed' | 'service.deregistered' | 'service.expired';

export interface ServiceDeregisteredEvent extends ServiceEvent<'service.deregistered'> {
  reason: RemovalReason;
}

export interface HealthChangedEvent extends EventBase<'service.health_changed'> {
  service: Service;
  previous_health: HealthState;
}

export interface CriticalLoadEvent extends EventBase<'service.critical_load'> {
  service: Service;
  load: number;
  threshold: number;
}

/** How a check ended: `refused` when the SSRF guard would not probe the target. */
export const PROBE_OUTCOMES = ['healthy', 'degraded', 'unhealthy', 'error', 'timeout', 'refused'] as const;
export type ProbeOutcome = (typeof PROBE_OUTCOMES)[number];

/** One health check's outcome (health-prober). Checked by `checkProbeResultEvent` where it is consumed. */
export interface ProbeResult {
  service_id: string;
  kind: 'http' | 'tcp';
  /** The URL or host:port checked; results for a target the service no longer has are ignored. */
  target: string;
  /** The service answered as alive: `healthy` or `degraded`. */
  ok: boolean;
  health: HealthState;
  outcome: ProbeOutcome;
  status_code: number | null;
  response_time_ms: number;
  /** `load_percentage` from a JSON body (seed 004), 0.0–1.0. */
  load: number | null;
  error: string | null;
  checked_at: string;
  prober_id: string;
}

export interface ProbeResultEvent extends Omit<EventBase<'probe.result'>, 'revision'> {
  result: ProbeResult;
}

export type NodeRole = 'server' | 'agent';

export interface NodeRoleChangedEvent extends Omit<EventBase<'node.role_changed'>, 'revision'> {
  node: {
    node_id: string;
    role: NodeRole;
    server_host: string | null;
    server_port: number | null;
    /** The lease revision: higher means a later tenure. */
    fencing_token: number | null;
  };
}

export type IncidentEventType = 'incident.opened' | 'incident.resolved' | 'incident.acknowledged' | 'incident.reminder';

/**
 * An incident opened, resolved, acknowledged, or still open (a reminder). `revision` is the
 * catalog's when it happened; `service` is the record then, or null once it is gone.
 */
export interface IncidentEvent<T extends IncidentEventType = IncidentEventType> extends EventBase<T> {
  incident: Incident;
  service: Service | null;
}

/** `beacon.webhooks.changed`: deliverers read the webhooks again. */
export interface WebhooksChangedMessage {
  v: typeof WIRE_VERSION;
  webhook_id: string;
  timestamp: string;
}

/** `beacon.webhooks.delivery`: one delivery's latest outcome. */
export interface WebhookDeliveryMessage {
  v: typeof WIRE_VERSION;
  delivery: WebhookDelivery;
}

/**
 * `beacon.webhooks.jobs`: one event to deliver to one webhook. `message` is the event as
 * live clients get it (`type`, `data`, `timestamp`, `seq`, `revision`).
 */
export interface WebhookJob {
  v: typeof WIRE_VERSION;
  webhook_id: string;
  /** Unique per event: its stream id (`BEACON_EVENTS` sequence) or the incident event's id. */
  event_id: string;
  event_type: string;
  /** When the event happened; past the retry horizon it is recorded as failed. */
  event_at: string;
  message: unknown;
}

/** A replica's announcement on `membersSubject(app)`: alive, or leaving now. */
export interface MemberAnnouncement {
  v: typeof WIRE_VERSION;
  app: string;
  member_id: string;
  /** Milliseconds between announcements; peers drop a member after a few missed ones. */
  interval_ms: number;
  leaving: boolean;
  timestamp: string;
}

/** Subject → payload, for a typed `publish`. */
export interface EventPayloads {
  [Subjects.serviceRegistered]: ServiceEvent<'service.registered'>;
  [Subjects.serviceUpdated]: ServiceEvent<'service.updated'>;
  [Subjects.serviceRenewed]: ServiceEvent<'service.renewed'>;
  [Subjects.serviceDeregistered]: ServiceDeregisteredEvent;
  [Subjects.serviceExpired]: ServiceEvent<'service.expired'>;
  [Subjects.serviceHealthChanged]: HealthChangedEvent;
  [Subjects.serviceCriticalLoad]: CriticalLoadEvent;
  [Subjects.probeResult]: ProbeResultEvent;
  [Subjects.nodeRoleChanged]: NodeRoleChangedEvent;
  [Subjects.incidentOpened]: IncidentEvent<'incident.opened'>;
  [Subjects.incidentResolved]: IncidentEvent<'incident.resolved'>;
  [Subjects.incidentAcknowledged]: IncidentEvent<'incident.acknowledged'>;
  [Subjects.incidentReminder]: IncidentEvent<'incident.reminder'>;
}

/** Subject → payload of the messages that are not events (no `type`): webhook delivery's. */
export interface MessagePayloads {
  [Subjects.webhooksChanged]: WebhooksChangedMessage;
  [Subjects.webhookDelivery]: WebhookDeliveryMessage;
  [Subjects.webhookJobs]: WebhookJob;
}
export type MessageSubject = keyof MessagePayloads;

/** Every subject `publish` takes: the events and messages above and the members subjects. */
export type EventSubject = keyof EventPayloads | MessageSubject | MembersSubject;

/** The payload a subject carries. */
export type PayloadOf<S extends EventSubject> = S extends keyof EventPayloads
  ? EventPayloads[S]
  : S extends MessageSubject
    ? MessagePayloads[S]
    : MemberAnnouncement;

/** Any event on `beacon.events.service.*`. */
export type AnyServiceEvent =
  | EventPayloads[typeof Subjects.serviceRegistered]
  | EventPayloads[typeof Subjects.serviceUpdated]
  | EventPayloads[typeof Subjects.serviceRenewed]
  | EventPayloads[typeof Subjects.serviceDeregistered]
  | EventPayloads[typeof Subjects.serviceExpired]
  | HealthChangedEvent
  | CriticalLoadEvent;

/** An event subject (not the members subjects): its payload has a `type`. */
export type EventPayloadSubject = keyof EventPayloads;

/** The `type` an event on `S` carries: its subject without `beacon.events.`. */
export type EventTypeOf<S extends EventPayloadSubject> = S extends `${typeof EVENT_SUBJECT_PREFIX}${infer T}` ? T : never;

/**
 * The `type` of an event on `subject` (`beacon.events.service.registered` →
 * `service.registered`): publishers build it with this, and consumers check it against
 * the subject a message came on.
 */
export function eventTypeOf<S extends EventPayloadSubject>(subject: S): EventTypeOf<S> {
  return subject.slice(EVENT_SUBJECT_PREFIX.length) as EventTypeOf<S>;
}

/** The subjects of `beacon.events.service.*`, one per service event type. */
export type ServiceEventSubject = Extract<EventPayloadSubject, `${typeof EVENT_SUBJECT_PREFIX}service.${string}`>;

/** Every subject or subject family a consumer may subscribe to, and what it receives. */
export type SubscribeSubject = EventPayloadSubject | MessageSubject | MembersSubject | typeof SERVICE_EVENTS_WILDCARD;

/** The payload a subscription to `S` receives (a family: any of its events). */
export type PayloadOn<S extends SubscribeSubject> = S extends typeof SERVICE_EVENTS_WILDCARD
  ? AnyServiceEvent
  : S extends EventPayloadSubject
    ? EventPayloads[S]
    : S extends MessageSubject
      ? MessagePayloads[S]
      : MemberAnnouncement;

/** One event read from `BEACON_EVENTS`, with its stream position; `subject` tells the payload. */
export type StoredEvent = {
  [S in StreamSubject]: { seq: number; subject: S; event: EventPayloads[S] };
}[StreamSubject];
