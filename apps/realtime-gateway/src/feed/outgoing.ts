import type {
  IncidentEventType,
  LiveControlType,
  LiveEventMessage,
  LiveEventType,
  Service,
  ServiceEvent,
  StoredEvent,
} from '@beacon/contracts';
import type { Previous } from './service-scopes';

/**
 * One event as clients receive it, serialized once for every client. `seq` is its
 * position in the BEACON_EVENTS stream (null for renewals, which the stream does not
 * keep); `revision` orders changes to services; `service` is what filters look at, and
 * `previous` (the version before a service event, when the feed knows it) lets a client
 * whose filters matched it hear the change that takes the service out of them.
 */
export interface Outgoing {
  type: LiveEventType;
  seq: number | null;
  revision: number | null;
  service: Service | null;
  previous: Previous;
  /** When the owner published it (ms), for the fan-out latency. */
  publishedAt: number;
  json: string;
}

function message(type: LiveEventType, data: unknown, timestamp: string, seq: number | null, revision: number | null): string {
  const body: LiveEventMessage = { type, event: type, data, timestamp, seq, revision };
  return JSON.stringify(body);
}

function outgoing(
  type: LiveEventType,
  data: unknown,
  event: { timestamp: string; revision?: number },
  seq: number | null,
  service: Service | null,
): Outgoing {
  const revision = event.revision ?? null;
  return {
    type,
    seq,
    revision,
    service,
    previous: null,
    publishedAt: Date.parse(event.timestamp) || Date.now(),
    json: message(type, data, event.timestamp, seq, revision),
  };
}

const INCIDENT_LIVE_TYPES = {
  'incident.opened': 'incident_opened',
  'incident.resolved': 'incident_resolved',
  'incident.acknowledged': 'incident_acknowledged',
  'incident.reminder': 'incident_reminder',
} as const satisfies Record<IncidentEventType, LiveEventType>;

/** A stored catalog or role event (stream position `seq`) in the original's message shape. */
export function fromStoredEvent({ seq, event }: StoredEvent): Outgoing {
  switch (event.type) {
    case 'node.role_changed':
      return outgoing('node_role_changed', event.node, event, seq, null);
    case 'service.registered':
      return outgoing('service_registered', event.service, event, seq, event.service);
    case 'service.updated':
      return outgoing('service_updated', event.service, event, seq, event.service);
    case 'service.expired':
      return outgoing('service_expired', event.service, event, seq, event.service);
    case 'service.deregistered': {
      const service = event.service;
      return outgoing(
        'service_deregistered',
        { service_id: service.service_id, service_name: service.name, reason: event.reason, service },
        event,
        seq,
        service,
      );
    }
    case 'service.health_changed':
      return outgoing('health_status_changed', { ...event.service, previous_health: event.previous_health }, event, seq, event.service);
    case 'service.critical_load': {
      const service = event.service;
      return outgoing(
        'critical_load',
        { service_id: service.service_id, service_name: service.name, load: event.load, threshold: event.threshold, service },
        event,
        seq,
        service,
      );
    }
    case 'incident.opened':
    case 'incident.resolved':
    case 'incident.acknowledged':
    case 'incident.reminder': {
      const type = INCIDENT_LIVE_TYPES[event.type];
      return outgoing(type, { ...event.incident, service: event.service }, event, seq, event.service);
    }
  }
}

/** A renewal (core NATS only) as `service_heartbeat`. */
export function fromRenewal(event: ServiceEvent<'service.renewed'>): Outgoing {
  const service = event.service;
  const data = { service_id: service.service_id, expires_at: service.expires_at, last_heartbeat: service.last_heartbeat };
  return outgoing('service_heartbeat', data, event, null, service);
}

/** A control message (greeting, snapshot, resync_required, ...), never replayed. */
export function control(type: LiveControlType, fields: Record<string, unknown>): string {
  return JSON.stringify({ type, ...fields, timestamp: new Date().toISOString() });
}
