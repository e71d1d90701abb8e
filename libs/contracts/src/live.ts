/**
 * The live feed's vocabulary: what realtime-gateway sends over WebSocket (`/api/v1/ws`)
 * and SSE (`/api/v1/events`), in the original Beacon's message shapes (seed 000: `type`
 * and `event` both name the message, `data` carries it) plus Beacon's `seq` and
 * `revision`. The dashboard is served its event list from here too (`/event-types.js`).
 */

/** Event messages, in the order documented in docs/realtime.md. */
export const LIVE_EVENT_TYPES = [
  'service_registered',
  'service_updated',
  'service_deregistered',
  'service_expired',
  'health_status_changed',
  'critical_load',
  'node_role_changed',
  'incident_opened',
  'incident_resolved',
  'incident_acknowledged',
  'incident_reminder',
  'service_heartbeat',
] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** What a client gets when it names no types: everything but the high-volume renewals. */
export const DEFAULT_LIVE_EVENT_TYPES: readonly LiveEventType[] = LIVE_EVENT_TYPES.filter((type) => type !== 'service_heartbeat');

/** Messages about the connection itself; never replayed. */
export const LIVE_CONTROL_TYPES = ['connection_established', 'snapshot', 'resync_required', 'subscribed', 'pong', 'error'] as const;
export type LiveControlType = (typeof LIVE_CONTROL_TYPES)[number];

/** One event message. `seq` is its BEACON_EVENTS stream position (null for renewals, which the stream does not keep). */
export interface LiveEventMessage<T extends LiveEventType = LiveEventType> {
  type: T;
  event: T;
  data: unknown;
  timestamp: string;
  seq: number | null;
  revision: number | null;
}
