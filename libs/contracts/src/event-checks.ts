import { HEALTH_STATES } from './enums';
import { PROBE_OUTCOMES, WIRE_VERSION, type EventPayloadSubject, type MessageSubject, type SubscribeSubject } from './events';
import { DELIVERY_STATUSES, INCIDENT_KINDS, INCIDENT_STATUSES, WEBHOOK_FORMATS } from './monitoring';
import { LIMITS } from './limits';
import type { FieldSpec, FieldTable } from './record-fields';
import { SERVICE_FIELDS } from './service';
import type { RequestSubject } from './registry-requests';
import { EVENT_SUBJECT_PREFIX, SERVICE_EVENTS_WILDCARD, STREAM_SUBJECTS, Subjects } from './subjects';

/**
 * One check per payload kind for documents read off NATS: why a document is not what its
 * subject promises, or null when it is. Every consumer goes through these (platform's
 * `NatsService.subscribe` and its stream reader), so none validates by hand.
 *
 * They are structural on purpose: they run for every event, thousands a second, so they
 * test the fields a consumer relies on with plain `typeof` and comparisons (no
 * class-transformer, no class-validator: those cost tens of microseconds a document).
 * The publisher is Beacon itself; the checks keep a stray or forged message from reaching
 * a handler that would trust its shape: every field a consumer may dereference has the
 * type its contract gives it (a service record field by field, from `SERVICE_FIELDS`),
 * so no handler can throw on one. They do not police values beyond that (lengths,
 * ranges): consumers bound what they keep in bytes.
 */
export type PayloadCheck = (document: unknown, subject: string) => string | null;

type Fields = Record<string, unknown>;

const HEALTH = new Set<unknown>(HEALTH_STATES);
const OUTCOMES = new Set<unknown>(PROBE_OUTCOMES);
const REMOVAL_REASONS = new Set<unknown>(['deregistered', 'purged', 'superseded']);
const ROLES = new Set<unknown>(['server', 'agent']);
const SERVICE_SUBJECT_PREFIX = `${EVENT_SUBJECT_PREFIX}service.`;
const SERVICE_SUBJECTS = new Set<string>(Object.values(Subjects).filter((subject) => subject.startsWith(SERVICE_SUBJECT_PREFIX)));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;
/** The fields of a `ProbeResult`, and no others (as registry-api has always accepted them). */
const PROBE_RESULT_FIELDS = new Set([
  'service_id',
  'kind',
  'target',
  'ok',
  'health',
  'outcome',
  'status_code',
  'response_time_ms',
  'load',
  'error',
  'checked_at',
  'prober_id',
]);

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isInstant(value: unknown): boolean {
  return typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value));
}

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isStringMap(value: unknown): boolean {
  if (!isObject(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}

/** Whether `value` is what a field of this kind carries on the wire. */
function fitsField(spec: FieldSpec, value: unknown): boolean {
  if (value === null) return spec.nullable === true;
  switch (spec.kind) {
    case 'string':
      return typeof value === 'string';
    case 'uuid':
      // An opaque key to every consumer (a map key, a filter's set member): any non-empty text is safe.
      return typeof value === 'string' && value !== '';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'number':
      return isFiniteNumber(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string-list':
      return isStringList(value);
    case 'string-map':
      return isStringMap(value);
    case 'timestamp':
      return isInstant(value);
    case 'enum':
      return (spec.values ?? []).includes(value as string);
  }
}

/** The first field of a record (`label.field`) that is missing or not of its declared kind. */
function recordProblem(table: FieldTable, record: Fields, label: string): string | null {
  for (const name in table) {
    if (!fitsField(table[name] as FieldSpec, record[name])) return `${label}.${name} is missing or not of kind ${table[name]?.kind}`;
  }
  return null;
}

/** `v`, `type` (the subject's, see `eventTypeOf`) and `timestamp`: what every event carries. */
function envelopeProblem(event: Fields, subject: string): string | null {
  if (event.v !== WIRE_VERSION) return `v is not ${WIRE_VERSION}`;
  if (event.type !== subject.slice(EVENT_SUBJECT_PREFIX.length)) return `type does not match the subject`;
  if (typeof event.timestamp !== 'string') return 'timestamp is not a string';
  return null;
}

/** Any `beacon.events.service.*` event: the envelope, `revision`, the record's identity, and each type's extra fields. */
export const checkServiceEvent: PayloadCheck = (document, subject) => {
  if (!SERVICE_SUBJECTS.has(subject)) return 'not a known service event subject';
  if (!isObject(document)) return 'not a JSON object';
  const problem = envelopeProblem(document, subject);
  if (problem) return problem;
  if (!isFiniteNumber(document.revision)) return 'revision is not a number';
  const service = document.service;
  if (!isObject(service)) return 'service is not an object';
  const fieldProblem = recordProblem(SERVICE_FIELDS, service, 'service');
  if (fieldProblem) return fieldProblem;
  switch (subject) {
    case Subjects.serviceDeregistered:
      return REMOVAL_REASONS.has(document.reason) ? null : 'reason is not a removal reason';
    case Subjects.serviceHealthChanged:
      return HEALTH.has(document.previous_health) ? null : 'previous_health is not a health state';
    case Subjects.serviceCriticalLoad:
      return isFiniteNumber(document.load) && isFiniteNumber(document.threshold) ? null : 'load or threshold is not a number';
    default:
      return null;
  }
};

/** One `ProbeResult` field by field, with the bounds registry-api has always applied. */
function probeResultProblem(result: Fields): string | null {
  for (const key in result) if (!PROBE_RESULT_FIELDS.has(key)) return `result.${key} is not an accepted field`;
  if (typeof result.service_id !== 'string' || !UUID.test(result.service_id)) return 'result.service_id is not a UUID';
  if (result.kind !== 'http' && result.kind !== 'tcp') return 'result.kind is not http or tcp';
  if (typeof result.target !== 'string' || result.target.length < 1 || result.target.length > LIMITS.healthCheckUrl.max) {
    return 'result.target is not a string of an accepted length';
  }
  if (typeof result.ok !== 'boolean') return 'result.ok is not a boolean';
  if (!HEALTH.has(result.health)) return 'result.health is not a health state';
  if (!OUTCOMES.has(result.outcome)) return 'result.outcome is not an outcome';
  const status = result.status_code;
  if (status !== null && !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)) {
    return 'result.status_code is not null or an HTTP status';
  }
  if (!isFiniteNumber(result.response_time_ms) || result.response_time_ms < 0) return 'result.response_time_ms is not a duration';
  const load = result.load;
  if (load !== null && !(isFiniteNumber(load) && load >= 0 && load <= 1)) return 'result.load is not null or 0-1';
  if (result.error !== null && !(typeof result.error === 'string' && result.error.length <= 1000))
    return 'result.error is not null or a string';
  if (!isInstant(result.checked_at)) return 'result.checked_at is not an ISO 8601 instant';
  if (typeof result.prober_id !== 'string' || result.prober_id.length < 1 || result.prober_id.length > 200) {
    return 'result.prober_id is not a string of an accepted length';
  }
  return null;
}

/**
 * `beacon.events.probe.result`: only `result` is checked. The envelope is not: registry-api
 * has always applied a bare `{ "result": ... }` from any prober.
 */
export const checkProbeResultEvent: PayloadCheck = (document) => {
  if (!isObject(document)) return 'not a JSON object';
  if (!isObject(document.result)) return 'result is not an object';
  return probeResultProblem(document.result);
};

/** `beacon.events.node.role_changed`. */
export const checkNodeRoleChangedEvent: PayloadCheck = (document, subject) => {
  if (!isObject(document)) return 'not a JSON object';
  const problem = envelopeProblem(document, subject);
  if (problem) return problem;
  const node = document.node;
  if (!isObject(node)) return 'node is not an object';
  if (typeof node.node_id !== 'string') return 'node.node_id is not a string';
  if (!ROLES.has(node.role)) return 'node.role is not server or agent';
  if (node.server_host !== null && typeof node.server_host !== 'string') return 'node.server_host is not null or a string';
  if (node.server_port !== null && !isFiniteNumber(node.server_port)) return 'node.server_port is not null or a number';
  if (node.fencing_token !== null && !isFiniteNumber(node.fencing_token)) return 'node.fencing_token is not null or a number';
  return null;
};

/** A replica's announcement on `beacon.members.<app>`; a peer's interval is bounded so a bad one cannot pin it for long. */
export const checkMemberAnnouncement: PayloadCheck = (document) => {
  if (!isObject(document)) return 'not a JSON object';
  if (document.v !== WIRE_VERSION) return `v is not ${WIRE_VERSION}`;
  if (typeof document.member_id !== 'string' || document.member_id === '') return 'member_id is not a string';
  if (typeof document.leaving !== 'boolean') return 'leaving is not a boolean';
  const interval = document.interval_ms;
  if (!isFiniteNumber(interval) || interval <= 0 || interval > 60_000) return 'interval_ms is not 1-60000';
  return null;
};

const INCIDENT_KIND_SET = new Set<unknown>(INCIDENT_KINDS);
const INCIDENT_STATUS_SET = new Set<unknown>(INCIDENT_STATUSES);
const DELIVERY_STATUS_SET = new Set<unknown>(DELIVERY_STATUSES);
const WEBHOOK_FORMAT_SET = new Set<unknown>(WEBHOOK_FORMATS);

const isNullOr = (value: unknown, test: (value: unknown) => boolean): boolean => value === null || test(value);
const isString = (value: unknown): boolean => typeof value === 'string';

/** An incident as registry-api sends it: every field a consumer (the webhook formatter) reads. */
export function incidentProblem(incident: unknown): string | null {
  if (!isObject(incident)) return 'incident is not an object';
  for (const field of ['incident_id', 'service_id', 'service_name', 'service_type'] as const) {
    if (typeof incident[field] !== 'string') return `incident.${field} is not a string`;
  }
  if (!INCIDENT_KIND_SET.has(incident.kind)) return 'incident.kind is not a known kind';
  if (!INCIDENT_STATUS_SET.has(incident.status)) return 'incident.status is not open or resolved';
  if (!isInstant(incident.started_at)) return 'incident.started_at is not an ISO 8601 instant';
  if (!isNullOr(incident.resolved_at, isInstant)) return 'incident.resolved_at is not null or an instant';
  if (!isNullOr(incident.acknowledged_at, isInstant)) return 'incident.acknowledged_at is not null or an instant';
  if (!isFiniteNumber(incident.duration_seconds)) return 'incident.duration_seconds is not a number';
  if (!isFiniteNumber(incident.failed_checks)) return 'incident.failed_checks is not a number';
  if (!isFiniteNumber(incident.reminders)) return 'incident.reminders is not a number';
  if (!isNullOr(incident.status_code, isFiniteNumber)) return 'incident.status_code is not null or a number';
  for (const field of ['cause', 'note', 'resolved_by'] as const) {
    if (!isNullOr(incident[field], isString)) return `incident.${field} is not null or a string`;
  }
  return null;
}

/** `beacon.events.incident.*`: the envelope, the incident, and the service when there is one. */
export const checkIncidentEvent: PayloadCheck = (document, subject) => {
  if (!isObject(document)) return 'not a JSON object';
  const problem = envelopeProblem(document, subject) ?? incidentProblem(document.incident);
  if (problem) return problem;
  if (document.service === null) return null;
  if (!isObject(document.service)) return 'service is not null or an object';
  return recordProblem(SERVICE_FIELDS, document.service, 'service');
};

function deliveryProblem(delivery: unknown): string | null {
  if (!isObject(delivery)) return 'delivery is not an object';
  for (const field of ['delivery_id', 'webhook_id', 'event_type'] as const) {
    if (typeof delivery[field] !== 'string') return `delivery.${field} is not a string`;
  }
  if (!DELIVERY_STATUS_SET.has(delivery.status)) return 'delivery.status is not a known status';
  if (!isFiniteNumber(delivery.attempts)) return 'delivery.attempts is not a number';
  if (!isNullOr(delivery.status_code, isFiniteNumber)) return 'delivery.status_code is not null or a number';
  if (!isNullOr(delivery.latency_ms, isFiniteNumber)) return 'delivery.latency_ms is not null or a number';
  if (!isNullOr(delivery.last_error, isString)) return 'delivery.last_error is not null or a string';
  if (!isInstant(delivery.event_at) || !isInstant(delivery.updated_at)) return 'delivery.event_at or updated_at is not an instant';
  return null;
}

/** A webhook with its URL and secret, as `beacon.registry.webhooks` answers. */
function webhookTargetProblem(webhook: unknown, at: string): string | null {
  if (!isObject(webhook)) return `${at} is not an object`;
  for (const field of ['webhook_id', 'url'] as const) if (typeof webhook[field] !== 'string') return `${at}.${field} is not a string`;
  if (!Array.isArray(webhook.events) || !webhook.events.every(isString)) return `${at}.events is not a list of strings`;
  if (!Array.isArray(webhook.tags) || !webhook.tags.every(isString)) return `${at}.tags is not a list of strings`;
  if (!WEBHOOK_FORMAT_SET.has(webhook.format)) return `${at}.format is not a known format`;
  for (const field of ['service_id', 'type', 'secret', 'description'] as const) {
    if (!isNullOr(webhook[field], isString)) return `${at}.${field} is not null or a string`;
  }
  if (typeof webhook.enabled !== 'boolean') return `${at}.enabled is not a boolean`;
  return null;
}

const MESSAGE_CHECKS: Record<MessageSubject, PayloadCheck> = {
  [Subjects.webhooksChanged]: (document) => {
    if (!isObject(document)) return 'not a JSON object';
    return typeof document.webhook_id === 'string' ? null : 'webhook_id is not a string';
  },
  [Subjects.webhookDelivery]: (document) => (isObject(document) ? deliveryProblem(document.delivery) : 'not a JSON object'),
  [Subjects.webhookJobs]: (document) => {
    if (!isObject(document)) return 'not a JSON object';
    if (document.v !== WIRE_VERSION) return `v is not ${WIRE_VERSION}`;
    for (const field of ['webhook_id', 'event_id', 'event_type'] as const) {
      if (typeof document[field] !== 'string') return `${field} is not a string`;
    }
    if (!isInstant(document.event_at)) return 'event_at is not an ISO 8601 instant';
    return isObject(document.message) ? null : 'message is not an object';
  },
};

const CHECKS: Record<EventPayloadSubject, PayloadCheck> = {
  [Subjects.serviceRegistered]: checkServiceEvent,
  [Subjects.serviceUpdated]: checkServiceEvent,
  [Subjects.serviceRenewed]: checkServiceEvent,
  [Subjects.serviceDeregistered]: checkServiceEvent,
  [Subjects.serviceExpired]: checkServiceEvent,
  [Subjects.serviceHealthChanged]: checkServiceEvent,
  [Subjects.serviceCriticalLoad]: checkServiceEvent,
  [Subjects.probeResult]: checkProbeResultEvent,
  [Subjects.nodeRoleChanged]: checkNodeRoleChangedEvent,
  [Subjects.incidentOpened]: checkIncidentEvent,
  [Subjects.incidentResolved]: checkIncidentEvent,
  [Subjects.incidentAcknowledged]: checkIncidentEvent,
  [Subjects.incidentReminder]: checkIncidentEvent,
};

/**
 * The check for a message read from `BEACON_EVENTS`: its subject's, or a refusal when
 * the stream holds a subject it should not (its configuration was changed by hand).
 */
export function storedPayloadCheck(subject: string): PayloadCheck {
  const check = (STREAM_SUBJECTS as readonly string[]).includes(subject) ? CHECKS[subject as EventPayloadSubject] : undefined;
  return check ?? (() => 'not a stream subject');
}

/**
 * The check for what a subscription to `subject` receives (or what the stream holds on
 * it); each message is checked against the subject it came on, so a family's events are
 * each held to their own type. A document it passes is a `PayloadOn<typeof subject>`.
 */
export function payloadCheckFor(subject: SubscribeSubject): PayloadCheck {
  if (subject === SERVICE_EVENTS_WILDCARD) return checkServiceEvent;
  if (subject.startsWith(EVENT_SUBJECT_PREFIX)) return CHECKS[subject as EventPayloadSubject];
  if (subject in MESSAGE_CHECKS) return MESSAGE_CHECKS[subject as MessageSubject];
  return checkMemberAnnouncement;
}

/** A `beacon.registry.snapshot` page: every record as whole as in an event (every consumer's catalog copy is built from these). */
const checkSnapshotReply: PayloadCheck = (document) => {
  if (!isObject(document)) return 'not a JSON object';
  if (!isFiniteNumber(document.revision)) return 'revision is not a number';
  if (document.next !== null && typeof document.next !== 'string') return 'next is not null or a string';
  if (!Array.isArray(document.services)) return 'services is not a list';
  for (const [index, service] of (document.services as unknown[]).entries()) {
    if (!isObject(service)) return `services[${index}] is not an object`;
    const problem = recordProblem(SERVICE_FIELDS, service, `services[${index}]`);
    if (problem) return problem;
  }
  return null;
};

/** A reply whose fields `fields` must be of the kinds given (`typeof` names), and an object. */
function checkFields(fields: Record<string, 'boolean' | 'number' | 'string'>): PayloadCheck {
  return (document) => {
    if (!isObject(document)) return 'not a JSON object';
    for (const [name, kind] of Object.entries(fields)) {
      const value = document[name];
      if (typeof value !== kind || (kind === 'number' && !isFiniteNumber(value))) return `${name} is not a ${kind}`;
    }
    return null;
  };
}

const checkExpireReply: PayloadCheck = (document, subject) => {
  const problem = checkFields({ expired: 'boolean' })(document, subject);
  if (problem) return problem;
  const at = (document as Fields).expires_at;
  return at === undefined || isInstant(at) ? null : 'expires_at is not an ISO 8601 instant';
};

const REPLY_CHECKS: Record<RequestSubject, PayloadCheck> = {
  [Subjects.registrySnapshot]: checkSnapshotReply,
  [Subjects.registryExpire]: checkExpireReply,
  [Subjects.registrySweep]: checkFields({ expired: 'number' }),
  [Subjects.registryPurge]: checkFields({ removed: 'number' }),
  [Subjects.proberCheck]: (document) => {
    if (!isObject(document)) return 'not a JSON object';
    const { v: _v, ...result } = document;
    return probeResultProblem(result);
  },
  [Subjects.mdnsStatus]: checkFields({ running: 'boolean', registered_services: 'number', domain: 'string' }),
  [Subjects.electorStatus]: checkFields({ node_id: 'string', mode: 'string', backend: 'string' }),
  [Subjects.registryWebhooks]: (document) => {
    if (!isObject(document)) return 'not a JSON object';
    if (!Array.isArray(document.webhooks)) return 'webhooks is not a list';
    for (const [index, webhook] of (document.webhooks as unknown[]).entries()) {
      const problem = webhookTargetProblem(webhook, `webhooks[${index}]`);
      if (problem) return problem;
    }
    return null;
  },
  [Subjects.webhookTest]: (document) => (isObject(document) ? deliveryProblem(document.delivery) : 'not a JSON object'),
};

/**
 * The check for a (non-error) reply to a request on `subject`: a requester hands it to
 * code that trusts its shape as much as an event's (a snapshot page becomes every
 * consumer's catalog copy), and anyone who can answer on the subject could send it.
 */
export function replyCheckFor(subject: RequestSubject): PayloadCheck {
  return REPLY_CHECKS[subject];
}
