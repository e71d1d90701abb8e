import { INCIDENT_KINDS, type Incident, type IncidentKind, type ProbeResult } from '@beacon/contracts';
import { effectiveStatus, type ServiceRecord } from '../catalog/service-record';

/** What a check result tells an incident: why it is failing (or that it passed). */
export type CheckDetail = Pick<ProbeResult, 'ok' | 'status_code' | 'error' | 'load'>;

/** Why a record left the catalog, as an auto-resolved incident's note says it. */
export const REMOVAL_NOTES = {
  deregistered: 'the service was deregistered',
  purged: 'the expired service was purged',
  superseded: 'another registration took over the service endpoint',
  gone: 'the service is no longer in the catalog',
} as const;
export type RemovalCause = keyof typeof REMOVAL_NOTES;

const RECOVERY_NOTES: Record<IncidentKind, string> = {
  down: 'health checks pass again',
  expired: 'the service is alive again (heartbeat, registration or passing check)',
  critical_load: 'load fell back under the critical threshold',
};

/**
 * The incidents a record's state implies, one per kind at most:
 * - `down`: health is unhealthy (checks failed past the fall threshold);
 * - `expired`: the TTL lapsed (`expires_at` passed, whether or not the reaper marked it);
 * - `critical_load`: the critical-load latch is set (load reached the threshold and has
 *   not fallen back below it by the hysteresis since, so a load hovering at the threshold
 *   cannot open and resolve incidents at every check).
 */
export function impliedKinds(record: ServiceRecord | null, now: number): Set<IncidentKind> {
  const kinds = new Set<IncidentKind>();
  if (!record) return kinds;
  if (record.health === 'unhealthy') kinds.add('down');
  if (effectiveStatus(record, now) === 'expired') kinds.add('expired');
  if (record.critical_load_alerted) kinds.add('critical_load');
  return kinds;
}

/** The cause of an incident of `kind`, in words, from the record and the check that opened or kept it open. */
export function causeOf(kind: IncidentKind, record: ServiceRecord, check: CheckDetail | null, threshold: number): string {
  switch (kind) {
    case 'down': {
      if (check && !check.ok) {
        const code = check.status_code === null ? null : `HTTP ${check.status_code}`;
        // health-prober's error for a failing status already reads "HTTP 503": say it once.
        if (code !== null && check.error?.startsWith(code)) return check.error;
        return [code, check.error].filter((part) => part !== null && part !== '').join(': ') || 'health check failed';
      }
      return `${record.consecutive_health_failures} consecutive health checks failed`;
    }
    case 'expired':
      return `no heartbeat or passing check within its TTL of ${record.ttl} s`;
    case 'critical_load':
      return `load ${record.load ?? 'unknown'} at or over the critical threshold ${threshold}`;
  }
}

export interface IncidentChanges {
  opened: Incident[];
  resolved: Incident[];
  /** Open incidents whose failed-check count or cause moved, with no event. */
  progressed: Incident[];
}

export interface ChangeContext {
  now: number;
  threshold: number;
  newId: () => string;
  /** The check result applied in this change, if any. */
  check?: CheckDetail | null;
  /** Why the record left the catalog (the change removed it). */
  removal?: RemovalCause;
  /** Who notices: the change itself, or the periodic reconcile. */
  reconcile?: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function resolvedIncident(incident: Incident, now: number, by: 'auto' | 'manual', note: string | null): Incident {
  const duration = Math.max(0, Math.round((now - Date.parse(incident.started_at)) / 1000));
  return { ...incident, status: 'resolved', resolved_at: iso(now), duration_seconds: duration, resolved_by: by, note };
}

function openedIncident(kind: IncidentKind, record: ServiceRecord, context: ChangeContext): Incident {
  const check = context.check ?? null;
  const failedCheck = check !== null && !check.ok;
  return {
    incident_id: context.newId(),
    service_id: record.service_id,
    service_name: record.name,
    service_type: record.type,
    kind,
    status: 'open',
    started_at: iso(context.now),
    resolved_at: null,
    duration_seconds: 0,
    cause: causeOf(kind, record, check, context.threshold),
    status_code: kind === 'down' && failedCheck ? check.status_code : null,
    failed_checks: kind === 'down' ? Math.max(record.consecutive_health_failures, failedCheck ? 1 : 0) : 0,
    acknowledged_at: null,
    resolved_by: null,
    note: context.reconcile ? 'opened by reconcile: the catalog showed it without an open incident' : null,
    reminders: 0,
  };
}

/**
 * What one change of a record means for its incidents (pure): the kinds its new state
 * implies open when none is open, open ones it no longer implies resolve (`auto`), and a
 * failing check counts on the open `down` incident. A removed record (`record` null)
 * resolves all of them, the note saying why.
 */
export function incidentChanges(open: readonly Incident[], record: ServiceRecord | null, context: ChangeContext): IncidentChanges {
  const implied = impliedKinds(record, context.now);
  const changes: IncidentChanges = { opened: [], resolved: [], progressed: [] };
  const openKinds = new Set(open.map((incident) => incident.kind));
  for (const incident of open) {
    if (implied.has(incident.kind) && record) {
      const check = context.check;
      if (incident.kind === 'down' && check && !check.ok) {
        changes.progressed.push({
          ...incident,
          failed_checks: incident.failed_checks + 1,
          cause: causeOf('down', record, check, context.threshold),
          // The last failing check's, as the cause is: a refused connection after a 503 has none.
          status_code: check.status_code,
        });
      }
      continue;
    }
    let note: string = record ? RECOVERY_NOTES[incident.kind] : REMOVAL_NOTES[context.removal ?? 'deregistered'];
    if (context.reconcile && record) note = `resolved by reconcile: ${note}`;
    changes.resolved.push(resolvedIncident(incident, context.now, 'auto', note));
  }
  if (record) {
    for (const kind of INCIDENT_KINDS) {
      if (implied.has(kind) && !openKinds.has(kind)) changes.opened.push(openedIncident(kind, record, context));
    }
  }
  return changes;
}

/**
 * The reminder count an open incident should carry at `now`, or null when no reminder is
 * due (reminders off, acknowledged, or not yet time). One is due an interval after the
 * last: when its count says (`started_at + (reminders + 1) × interval`), or `lastAt` +
 * interval when that comes sooner. `lastAt` is when this process last reminded or took the
 * incident over: after a restart with a longer interval the count can be far ahead of the
 * new schedule (8 reminders at 1 s read as due only 36 s after the start at 4 s, and 100 at
 * 1 m as 100 hours at 1 h), and reminders would fall silent until it caught up. A count
 * behind its schedule (a shorter interval, a long stop) catches up in one reminder.
 */
export function reminderDue(incident: Incident, now: number, intervalSeconds: number, lastAt: number | null): number | null {
  if (intervalSeconds <= 0 || incident.status !== 'open' || incident.acknowledged_at !== null) return null;
  const interval = intervalSeconds * 1000;
  const started = Date.parse(incident.started_at);
  const next = Math.min(started + (incident.reminders + 1) * interval, lastAt === null ? Infinity : lastAt + interval);
  if (now < next) return null;
  return Math.max(incident.reminders + 1, Math.floor((now - started) / interval));
}
