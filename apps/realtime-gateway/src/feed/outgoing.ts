import {
  Subjects,
  type AnyServiceEvent,
  type LiveControlType,
  type LiveEventMessage,
  type LiveEventType,
  type NodeRoleChangedEvent,
  type Service,
} from '@beacon/contracts';

/**
 * One event as clients receive it, serialized once for every client. `seq` is its
 * position in the BEACON_EVENTS stream (null for renewals, which the stream does not
 * keep); `revision` orders changes to services; `service` is what filters look at.
 */
export interface Outgoing {
  type: LiveEventType;
  seq: number | null;
  revision: number | null;
  service: Service | null;
  /** When the owner published it (ms), for the fan-out latency. */
  publishedAt: number;
  json: string;
}

function message(type: LiveEventType, data: unknown, timestamp: string, seq: number | null, revision: number | null): string {
  const body: LiveEventMessage = { type, event: type, data, timestamp, seq, revision };
  return JSON.stringify(body);
}

function outgoing(type: LiveEventType, data: unknown, event: { timestamp: string; revision?: number }, seq: number | null, service: Service | null): Outgoing {
  const revision = event.revision ?? null;
  return { type, seq, revision, service, publishedAt: Date.parse(event.timestamp) || Date.now(), json: message(type, data, event.timestamp, seq, revision) };
}

/** A stored catalog event (stream position `seq`) in the original's message shape; null if unknown. */
export function fromStreamEvent(subject: string, document: unknown, seq: number): Outgoing | null {
  if (typeof document !== 'object' || document === null) return null;
  if (subject === Subjects.nodeRoleChanged) {
    const event = document as NodeRoleChangedEvent;
    return typeof event.node === 'object' && event.node !== null ? outgoing('node_role_changed', event.node, event, seq, null) : null;
  }
  const event = document as AnyServiceEvent;
  const service = event.service;
  if (typeof service !== 'object' || service === null || typeof event.revision !== 'number') return null;
  switch (event.type) {
    case 'service.registered':
      return outgoing('service_registered', service, event, seq, service);
    case 'service.updated':
      return outgoing('service_updated', service, event, seq, service);
    case 'service.expired':
      return outgoing('service_expired', service, event, seq, service);
    case 'service.deregistered':
      return outgoing(
        'service_deregistered',
        { service_id: service.service_id, service_name: service.name, reason: event.reason, service },
        event,
        seq,
        service,
      );
    case 'service.health_changed':
      return outgoing('health_status_changed', { ...service, previous_health: event.previous_health }, event, seq, service);
    case 'service.critical_load':
      return outgoing(
        'critical_load',
        { service_id: service.service_id, service_name: service.name, load: event.load, threshold: event.threshold, service },
        event,
        seq,
        service,
      );
    default:
      return null;
  }
}

/** A renewal (core NATS only) as `service_heartbeat`. */
export function fromRenewal(document: unknown): Outgoing | null {
  const event = document as Partial<AnyServiceEvent>;
  const service = event?.service;
  if (event?.type !== 'service.renewed' || typeof service !== 'object' || service === null || typeof event.timestamp !== 'string') {
    return null;
  }
  const data = { service_id: service.service_id, expires_at: service.expires_at, last_heartbeat: service.last_heartbeat };
  return outgoing('service_heartbeat', data, { timestamp: event.timestamp, revision: event.revision }, null, service);
}

/** A control message (greeting, snapshot, resync_required, ...), never replayed. */
export function control(type: LiveControlType, fields: Record<string, unknown>): string {
  return JSON.stringify({ type, ...fields, timestamp: new Date().toISOString() });
}
