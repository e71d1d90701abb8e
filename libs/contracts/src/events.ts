import type { HealthState } from './enums';
import type { Service } from './service';
import { Subjects } from './subjects';

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

export type ServiceEventType =
  | 'service.registered'
  | 'service.updated'
  | 'service.renewed'
  | 'service.deregistered'
  | 'service.expired';

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

/** One health check's outcome (health-prober). */
export interface ProbeResult {
  service_id: string;
  kind: 'http' | 'tcp';
  target: string;
  ok: boolean;
  health: HealthState;
  status_code: number | null;
  response_time_ms: number;
  load: number | null;
  error: string | null;
  /** `refused` when the SSRF guard would not probe the target. */
  outcome: 'healthy' | 'degraded' | 'unhealthy' | 'error' | 'timeout' | 'refused';
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
}

export type EventSubject = keyof EventPayloads;

/** Any event on `beacon.events.service.*`. */
export type AnyServiceEvent =
  | EventPayloads[typeof Subjects.serviceRegistered]
  | EventPayloads[typeof Subjects.serviceUpdated]
  | EventPayloads[typeof Subjects.serviceRenewed]
  | EventPayloads[typeof Subjects.serviceDeregistered]
  | EventPayloads[typeof Subjects.serviceExpired]
  | HealthChangedEvent
  | CriticalLoadEvent;
