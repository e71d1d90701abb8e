import { describe, expect, it } from 'vitest';
import {
  checkMemberAnnouncement,
  checkNodeRoleChangedEvent,
  checkProbeResultEvent,
  checkServiceEvent,
  payloadCheckFor,
  replyCheckFor,
  storedPayloadCheck,
} from './event-checks';
import { eventTypeOf, type EventPayloads, type EventTypeOf, type ProbeResult, type ServiceEventSubject } from './events';
import type { Service } from './service';
import { SERVICE_EVENTS_WILDCARD, STREAM_SUBJECTS, Subjects, membersSubject } from './subjects';

/** Compile-time: every event's declared `type` is the one its subject gives. */
type TypeMatchesSubject = { [S in keyof EventPayloads]: [EventPayloads[S]['type']] extends [EventTypeOf<S>] ? true : S };
type AllMatch = TypeMatchesSubject[keyof EventPayloads] extends true ? true : false;
const typesMatchSubjects: AllMatch = true;
/** Compile-time: the service family holds the service subjects and nothing else. */
const inFamily: ServiceEventSubject = Subjects.serviceCriticalLoad;
// @ts-expect-error a probe result is not a service event
const notInFamily: ServiceEventSubject = Subjects.probeResult;

const at = '2026-11-26T02:28:05.112Z';
/** A whole record, as registry-api publishes it. */
const service: Service = {
  service_id: '9d73ce21-e141-4803-9afb-7917662c53b7',
  name: 'thermo',
  type: 'iot',
  host: '10.0.0.7',
  port: 80,
  protocol: 'http',
  tags: ['kitchen'],
  metadata: { room: 'kitchen' },
  version: null,
  node_id: null,
  instance_id: null,
  status: 'active',
  health: 'unknown',
  ttl: 300,
  expires_at: at,
  last_heartbeat: null,
  created_at: at,
  updated_at: at,
  health_check_url: null,
  health_check_tcp: null,
  health_check_interval: 60,
  health_check_timeout: 5,
  health_check_retries: 3,
  health_check_rise: 1,
  last_health_check: null,
  consecutive_health_failures: 0,
  load: null,
  mdns_service_type: '_http._tcp',
  mdns_txt_records: {},
  revision: 42,
};
const envelope = (subject: keyof EventPayloads) => ({ v: 1, type: eventTypeOf(subject), timestamp: '2026-11-26T02:28:05.112Z' });

const result: ProbeResult = {
  service_id: service.service_id,
  kind: 'http',
  target: 'http://10.0.0.1:8080/health',
  ok: true,
  health: 'healthy',
  outcome: 'healthy',
  status_code: 200,
  response_time_ms: 1.5,
  load: 0.3,
  error: null,
  checked_at: '2026-11-26T02:28:05.112Z',
  prober_id: 'prober-1',
};

describe('eventTypeOf', () => {
  it('is the subject without beacon.events., for every event subject', () => {
    expect(typesMatchSubjects).toBe(true);
    expect([inFamily, notInFamily]).toEqual([Subjects.serviceCriticalLoad, Subjects.probeResult]);
    expect(eventTypeOf(Subjects.serviceRegistered)).toBe('service.registered');
    expect(eventTypeOf(Subjects.serviceHealthChanged)).toBe('service.health_changed');
    expect(eventTypeOf(Subjects.probeResult)).toBe('probe.result');
    expect(eventTypeOf(Subjects.nodeRoleChanged)).toBe('node.role_changed');
  });
});

describe('checkServiceEvent', () => {
  it('passes what registry-api publishes on each subject', () => {
    const base = { revision: 42, service };
    expect(checkServiceEvent({ ...envelope(Subjects.serviceRegistered), ...base }, Subjects.serviceRegistered)).toBeNull();
    expect(checkServiceEvent({ ...envelope(Subjects.serviceRenewed), ...base }, Subjects.serviceRenewed)).toBeNull();
    expect(
      checkServiceEvent({ ...envelope(Subjects.serviceDeregistered), ...base, reason: 'purged' }, Subjects.serviceDeregistered),
    ).toBeNull();
    expect(
      checkServiceEvent({ ...envelope(Subjects.serviceHealthChanged), ...base, previous_health: 'unknown' }, Subjects.serviceHealthChanged),
    ).toBeNull();
    expect(
      checkServiceEvent({ ...envelope(Subjects.serviceCriticalLoad), ...base, load: 0.95, threshold: 0.9 }, Subjects.serviceCriticalLoad),
    ).toBeNull();
  });

  it('says what is wrong with anything else', () => {
    const good = { ...envelope(Subjects.serviceUpdated), revision: 42, service };
    const on = Subjects.serviceUpdated;
    expect(checkServiceEvent('text', on)).toBe('not a JSON object');
    expect(checkServiceEvent([good], on)).toBe('not a JSON object');
    expect(checkServiceEvent({ ...good, v: 2 }, on)).toBe('v is not 1');
    expect(checkServiceEvent(good, Subjects.serviceExpired)).toBe('type does not match the subject');
    expect(checkServiceEvent(good, 'beacon.events.service.unheard_of')).toBe('not a known service event subject');
    expect(checkServiceEvent({ ...good, revision: '42' }, on)).toBe('revision is not a number');
    expect(checkServiceEvent({ ...good, service: null }, on)).toBe('service is not an object');
    const withService = (fields: Record<string, unknown>) => checkServiceEvent({ ...good, service: { ...service, ...fields } }, on);
    expect(withService({ service_id: 7 })).toBe('service.service_id is missing or not of kind uuid');
    expect(withService({ service_id: '' })).toBe('service.service_id is missing or not of kind uuid');
    expect(withService({ revision: null })).toBe('service.revision is missing or not of kind integer');
    // What consumers dereference: a forged record must not reach them (the gateway's filters called tags.includes).
    expect(withService({ tags: 'kitchen' })).toBe('service.tags is missing or not of kind string-list');
    expect(withService({ tags: [1] })).toBe('service.tags is missing or not of kind string-list');
    expect(withService({ tags: undefined })).toBe('service.tags is missing or not of kind string-list');
    expect(withService({ metadata: { room: 1 } })).toBe('service.metadata is missing or not of kind string-map');
    expect(withService({ port: '80' })).toBe('service.port is missing or not of kind integer');
    expect(withService({ expires_at: 'soon' })).toBe('service.expires_at is missing or not of kind timestamp');
    expect(withService({ status: 'asleep' })).toBe('service.status is missing or not of kind enum');
    expect(withService({ load: Number.NaN })).toBe('service.load is missing or not of kind number');
    expect(withService({ type: null })).toBe('service.type is missing or not of kind string');
    expect(withService({ version: '1.0', last_heartbeat: at, extra: 'kept for newer publishers' })).toBeNull();
    const removed = { ...envelope(Subjects.serviceDeregistered), revision: 42, service, reason: 'bored' };
    expect(checkServiceEvent(removed, Subjects.serviceDeregistered)).toBe('reason is not a removal reason');
  });
});

describe('checkProbeResultEvent', () => {
  it('passes a result with or without the envelope (registry-api always took a bare one)', () => {
    expect(checkProbeResultEvent({ ...envelope(Subjects.probeResult), result }, Subjects.probeResult)).toBeNull();
    expect(checkProbeResultEvent({ result }, Subjects.probeResult)).toBeNull();
    expect(
      checkProbeResultEvent({ result: { ...result, status_code: null, load: null, error: 'ECONNREFUSED' } }, Subjects.probeResult),
    ).toBeNull();
  });

  it('holds each field to the bounds registry-api applied', () => {
    const problem = (fields: Record<string, unknown>) => checkProbeResultEvent({ result: { ...result, ...fields } }, Subjects.probeResult);
    expect(problem({ service_id: 'x' })).toBe('result.service_id is not a UUID');
    expect(problem({ kind: 'udp' })).toBe('result.kind is not http or tcp');
    expect(problem({ target: '' })).toBe('result.target is not a string of an accepted length');
    expect(problem({ ok: 'yes' })).toBe('result.ok is not a boolean');
    expect(problem({ health: 'fine' })).toBe('result.health is not a health state');
    expect(problem({ outcome: 'meh' })).toBe('result.outcome is not an outcome');
    expect(problem({ status_code: 99 })).toBe('result.status_code is not null or an HTTP status');
    expect(problem({ status_code: 200.5 })).toBe('result.status_code is not null or an HTTP status');
    expect(problem({ response_time_ms: -1 })).toBe('result.response_time_ms is not a duration');
    expect(problem({ load: 1.5 })).toBe('result.load is not null or 0-1');
    expect(problem({ error: 'x'.repeat(1001) })).toBe('result.error is not null or a string');
    expect(problem({ checked_at: 'yesterday' })).toBe('result.checked_at is not an ISO 8601 instant');
    expect(problem({ checked_at: '2026-13-45T00:00:00Z' })).toBe('result.checked_at is not an ISO 8601 instant');
    expect(problem({ prober_id: '' })).toBe('result.prober_id is not a string of an accepted length');
    expect(problem({ extra: true })).toBe('result.extra is not an accepted field');
    expect(checkProbeResultEvent({ result: 'ok' }, Subjects.probeResult)).toBe('result is not an object');
  });
});

describe('checkNodeRoleChangedEvent and checkMemberAnnouncement', () => {
  it('pass what the elector and replicas publish, and name what is wrong otherwise', () => {
    const node = { node_id: 'pi-1', role: 'server', server_host: '10.0.0.1', server_port: 8097, fencing_token: 3 };
    const role = { ...envelope(Subjects.nodeRoleChanged), node };
    expect(checkNodeRoleChangedEvent(role, Subjects.nodeRoleChanged)).toBeNull();
    expect(
      checkNodeRoleChangedEvent(
        { ...role, node: { ...node, server_host: null, server_port: null, fencing_token: null } },
        Subjects.nodeRoleChanged,
      ),
    ).toBeNull();
    expect(checkNodeRoleChangedEvent({ ...role, node: { ...node, role: 'boss' } }, Subjects.nodeRoleChanged)).toBe(
      'node.role is not server or agent',
    );

    const member = {
      v: 1,
      app: 'health-prober',
      member_id: 'p-1',
      interval_ms: 1000,
      leaving: false,
      timestamp: '2026-11-26T02:28:05.112Z',
    };
    expect(checkMemberAnnouncement(member, membersSubject('health-prober'))).toBeNull();
    expect(checkMemberAnnouncement({ ...member, interval_ms: 0 }, membersSubject('health-prober'))).toBe('interval_ms is not 1-60000');
    expect(checkMemberAnnouncement({ ...member, leaving: 'no' }, membersSubject('health-prober'))).toBe('leaving is not a boolean');
  });
});

describe('payloadCheckFor', () => {
  it('gives each subject, family and stream subject its kind of check', () => {
    expect(payloadCheckFor(SERVICE_EVENTS_WILDCARD)).toBe(checkServiceEvent);
    expect(payloadCheckFor(Subjects.serviceRenewed)).toBe(checkServiceEvent);
    expect(payloadCheckFor(Subjects.probeResult)).toBe(checkProbeResultEvent);
    expect(payloadCheckFor(Subjects.nodeRoleChanged)).toBe(checkNodeRoleChangedEvent);
    expect(payloadCheckFor(membersSubject('ttl-reaper'))).toBe(checkMemberAnnouncement);
    for (const subject of STREAM_SUBJECTS) expect(payloadCheckFor(subject)).toBeTypeOf('function');
  });

  it("gives a stored message its subject's check, and refuses one on a subject the stream should not hold", () => {
    for (const subject of STREAM_SUBJECTS) expect(storedPayloadCheck(subject)).toBe(payloadCheckFor(subject));
    expect(storedPayloadCheck(Subjects.serviceRenewed)({}, Subjects.serviceRenewed)).toBe('not a stream subject');
    expect(storedPayloadCheck('beacon.members.ttl-reaper')({}, 'beacon.members.ttl-reaper')).toBe('not a stream subject');
  });
});

describe('replyCheckFor', () => {
  it('passes what the responders answer, and names what is wrong otherwise', () => {
    const snapshot = replyCheckFor(Subjects.registrySnapshot);
    const page = { v: 1, revision: 42, next: null, services: [service] };
    expect(snapshot(page, Subjects.registrySnapshot)).toBeNull();
    expect(snapshot({ ...page, next: 'cursor' }, Subjects.registrySnapshot)).toBeNull();
    expect(snapshot({ ...page, services: [{ ...service, tags: 'kitchen' }] }, Subjects.registrySnapshot)).toBe(
      'services[0].tags is missing or not of kind string-list',
    );
    expect(snapshot({ ...page, services: {} }, Subjects.registrySnapshot)).toBe('services is not a list');
    expect(snapshot({ ...page, revision: '42' }, Subjects.registrySnapshot)).toBe('revision is not a number');

    const expire = replyCheckFor(Subjects.registryExpire);
    expect(expire({ v: 1, expired: false, expires_at: at }, Subjects.registryExpire)).toBeNull();
    expect(expire({ v: 1, expired: 'no' }, Subjects.registryExpire)).toBe('expired is not a boolean');
    expect(expire({ v: 1, expired: false, expires_at: 'later' }, Subjects.registryExpire)).toBe('expires_at is not an ISO 8601 instant');
    expect(replyCheckFor(Subjects.registrySweep)({ v: 1, expired: Number.NaN }, Subjects.registrySweep)).toBe('expired is not a number');
    expect(replyCheckFor(Subjects.registryPurge)({ v: 1, removed: 5 }, Subjects.registryPurge)).toBeNull();
    expect(replyCheckFor(Subjects.proberCheck)({ v: 1, ...result }, Subjects.proberCheck)).toBeNull();
    expect(replyCheckFor(Subjects.proberCheck)({ v: 1, ...result, ok: 1 }, Subjects.proberCheck)).toBe('result.ok is not a boolean');
    expect(
      replyCheckFor(Subjects.mdnsStatus)({ v: 1, running: true, registered_services: 2, domain: 'local' }, Subjects.mdnsStatus),
    ).toBeNull();
    expect(replyCheckFor(Subjects.electorStatus)([], Subjects.electorStatus)).toBe('not a JSON object');
  });
});
