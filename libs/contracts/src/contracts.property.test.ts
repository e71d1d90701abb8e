import type { ClassConstructor } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryHeartbeatDto, DiscoveryRegisterDto } from './discovery-v1';
import { HEALTH_STATES, SERVICE_STATUSES, SETTABLE_STATUSES } from './enums';
import { payloadCheckFor, type PayloadCheck } from './event-checks';
import { PROBE_OUTCOMES, eventTypeOf, type EventPayloadSubject, type SubscribeSubject } from './events';
import { HealthChecksQueryDto, ProberCheckRequest } from './health-checks';
import { ExpireRequest, PurgeRequest, SnapshotRequest, SweepRequest } from './registry-requests';
import type { FieldSpec, WireKind } from './record-fields';
import { SERVICE_FIELDS } from './service';
import { HeartbeatQueryDto, PageQueryDto, RegisterServiceDto, ServiceFilterDto, ServiceQueryDto, UpdateServiceDto } from './service.dto';
import { SERVICE_EVENTS_WILDCARD, Subjects, membersSubject } from './subjects';
import { parseServiceQuery, validateInput, type Validated } from './validation';

/**
 * Property-based tests of every validator a client's bytes reach (REST bodies and query
 * strings, NATS requests) and every NATS payload check (issue 13: "nothing any client
 * sends can take a part down"). Each contract is held to four things: it never throws on
 * anything, it answers in its documented shape, what a well-behaved client sends passes
 * (so a validator that refuses everything fails here), and a near-valid document with one
 * field broken is refused, naming that field (so one that accepts everything fails too).
 */

type Doc = Record<string, unknown>;

/** A copy of `base` with `key` as an own property, `__proto__` included (plain assignment would set the prototype). */
function withField(base: Doc, key: string, value: unknown): Doc {
  const copy: Doc = { ...base };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** The same at a dotted path (`service.name`), copying each object on the way. */
function withPath(base: Doc, path: string, value: unknown): Doc {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  if (rest.length === 0) return withField(base, head, value);
  const inner = base[head];
  return withField(base, head, withPath(typeof inner === 'object' && inner !== null ? (inner as Doc) : {}, rest.join('.'), value));
}

/** Never a valid value of any field: every field's first rule is about its kind or its items being strings. */
const WRONG_KIND = { nested: { deeper: [1] } };

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

const nested = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? [value] : { a: value };
  return value;
};

const controlText = fc.string({
  unit: fc.integer({ min: 0, max: 31 }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 8,
});

/** Values no field should meet without a plain refusal: wrong kinds, extremes, control characters, pollution attempts. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.constantFrom<unknown>(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\u202e',
    '\ud800',
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    -0,
    0.5,
    true,
    null,
    [],
    {},
  ),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  controlText,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant('x'.repeat(70_000)),
  fc.constant(Array.from({ length: 5_000 }, (_, index) => `t${index}`)),
  fc.integer({ min: 2, max: 2_000 }).map(nested),
  fc.constantFrom<unknown>(
    JSON.parse('{"__proto__": {"polluted": true}}'),
    JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
    JSON.parse('[{"__proto__": {"polluted": true}}]'),
  ),
);

const hostileKey = fc.oneof(
  fc.constantFrom<string>(...PROTOTYPE_KEYS),
  fc.constantFrom('$ne', '$where', 'a[$ne]', '', ' ', 'a\u0000b', 'metadata.__proto__', 'metadata.constructor', 'metadata.'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);

/** One field of a valid document replaced by a hostile value, one hostile key added, or one field removed. */
function mutants(valid: fc.Arbitrary<Doc>): fc.Arbitrary<Doc> {
  return valid.chain((document) => {
    const keys = Object.keys(document);
    const replace =
      keys.length > 0
        ? fc.tuple(fc.constantFrom(...keys), hostileValue).map(([key, value]) => withField(document, key, value))
        : fc.constant(document);
    const add = fc.tuple(hostileKey, hostileValue).map(([key, value]) => withField(document, key, value));
    const drop =
      keys.length > 0
        ? fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(document).filter(([name]) => name !== key)))
        : fc.constant(document);
    return fc.oneof(replace, add, drop);
  });
}

// ---- Well-formed values, as a well-behaved client sends them ----

const record = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T, requiredKeys: (keyof T)[] = []): fc.Arbitrary<Doc> =>
  fc.record(fields, { requiredKeys: requiredKeys as never[], noNullPrototype: true });

const word = (max: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[a-z0-9][a-z0-9._-]{0,${max - 1}}$`));
const ipv4 = fc.ipV4();
const host = fc.oneof(ipv4, fc.domain());
const port = fc.integer({ min: 1, max: 65535 });
const portValue = fc.oneof(port, port.map(String));
const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
const uuid = fc.uuid({ version: 4 });
const digits = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map(String);
const tags = fc.uniqueArray(word(20), { maxLength: 5 });
const stringMap = fc.dictionary(word(20), fc.string({ maxLength: 40 }), { maxKeys: 5, noNullPrototype: true });
const mdnsType = fc.stringMatching(/^_[a-z][a-z0-9]{0,9}\._(tcp|udp)$/).filter((type) => !type.includes('beacon'));
const healthCheckUrl = fc
  .tuple(fc.constantFrom('http', 'https'), ipv4, port, fc.stringMatching(/^[a-z0-9/]{0,20}$/))
  .map(([scheme, address, number, path]) => `${scheme}://${address}:${number}/${path}`);
const healthCheckTcp = fc.tuple(ipv4, port).map(([address, number]) => `${address}:${number}`);
const healthEndpoint = fc.stringMatching(/^\/[a-z0-9/?=&]{0,30}$/);

const registration = {
  name: word(60),
  type: word(30),
  host,
  port: portValue,
  protocol: word(10),
  tags,
  metadata: stringMap,
  version: word(20),
  node_id: word(40),
  instance_id: word(40),
  ttl: fc.integer({ min: 10, max: 86400 }),
  health_check_url: healthCheckUrl,
  health_check_tcp: healthCheckTcp,
  health_check_interval: fc.integer({ min: 1, max: 3600 }),
  health_check_timeout: fc.integer({ min: 1, max: 300 }),
  health_check_retries: fc.integer({ min: 1, max: 100 }),
  health_check_rise: fc.integer({ min: 1, max: 100 }),
  mdns_service_type: mdnsType,
  mdns_txt_records: stringMap,
};

const { instance_id: _instanceId, ...patchable } = registration;
const orNull = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arbitrary, { nil: null });

const filter = {
  type: word(30),
  tags: fc.oneof(
    tags,
    tags.map((list) => list.join(',')),
  ),
  protocol: word(10),
  status: fc.constantFrom(...SERVICE_STATUSES),
  name: word(60),
  version: word(20),
  health: fc.constantFrom(...HEALTH_STATES),
  node_id: word(40),
};

// ---- The validators: REST bodies and query strings, NATS requests ----

interface ValidatorContract {
  name: string;
  validate(input: unknown): Validated<object>;
  valid: fc.Arbitrary<Doc>;
  /** Every field it takes: each one refuses a value of the wrong kind, by name. */
  fields: readonly string[];
  /** What it may be handed at all, when its signature narrows "anything". */
  anyInput?: fc.Arbitrary<unknown>;
}

/** The fields a contract class declares, as class-validator holds them (so a new field is covered with no edit here). */
function declaredFields(cls: ClassConstructor<object>): string[] {
  const storage = getMetadataStorage();
  return Object.keys(storage.groupByPropertyName(storage.getTargetValidationMetadatas(cls, '', false, false, undefined)));
}

const byClass = (cls: ClassConstructor<object>, valid: fc.Arbitrary<Doc>): ValidatorContract => ({
  name: cls.name,
  validate: (input) => validateInput(cls, input),
  valid,
  fields: declaredFields(cls),
});

const queryValue = fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.string({ maxLength: 10 }), { minLength: 2, maxLength: 3 }));

const VALIDATORS: ValidatorContract[] = [
  byClass(RegisterServiceDto, record(registration, ['name', 'host', 'port'])),
  byClass(
    UpdateServiceDto,
    record({
      ...patchable,
      status: fc.constantFrom(...SETTABLE_STATUSES),
      version: orNull(registration.version),
      node_id: orNull(registration.node_id),
      health_check_url: orNull(healthCheckUrl),
      health_check_tcp: orNull(healthCheckTcp),
      mdns_service_type: orNull(mdnsType),
    }),
  ),
  byClass(HeartbeatQueryDto, record({ ttl: digits(10, 86400) })),
  byClass(ServiceFilterDto, record({ ...filter, metadata: stringMap })),
  byClass(PageQueryDto, record({ limit: digits(1, 100), skip: digits(0, 1_000_000) })),
  byClass(HealthChecksQueryDto, record({ limit: digits(1, 100) })),
  byClass(
    DiscoveryRegisterDto,
    record({ service_name: word(60), instance_id: word(40), host, port: portValue, health_endpoint: healthEndpoint, metadata: stringMap }, [
      'service_name',
      'instance_id',
      'host',
      'port',
    ]),
  ),
  byClass(DiscoveryHeartbeatDto, record({ service_name: word(60), instance_id: word(40) }, ['service_name', 'instance_id'])),
  byClass(SnapshotRequest, record({ after: fc.string({ minLength: 1, maxLength: 128 }), limit: fc.integer({ min: 1, max: 5000 }) })),
  byClass(ExpireRequest, record({ service_id: uuid, expires_at: instant }, ['service_id', 'expires_at'])),
  byClass(SweepRequest, record({ now: instant })),
  byClass(PurgeRequest, record({ older_than: instant }, ['older_than'])),
  byClass(ProberCheckRequest, record({ service_id: uuid, publish: fc.boolean() }, ['service_id'])),
  {
    // The query string of GET /services and /services/discover, as Fastify's parser hands it over.
    name: 'parseServiceQuery',
    validate: (input) => parseServiceQuery(input as Record<string, unknown>),
    valid: fc
      .tuple(
        record({ ...filter, tags: tags.map((list) => list.join(',')), limit: digits(1, 100), skip: digits(0, 1_000_000) }),
        fc.dictionary(word(20), fc.string({ maxLength: 40 }), { maxKeys: 3, noNullPrototype: true }),
      )
      .map(([plain, metadata]) => ({
        ...plain,
        ...Object.fromEntries(Object.entries(metadata).map(([key, value]) => [`metadata.${key}`, value])),
      })),
    fields: declaredFields(ServiceQueryDto).filter((field) => field !== 'metadata'),
    // Fastify always hands over an object (of strings and string lists); its values may still be anything.
    anyInput: fc.dictionary(fc.oneof(hostileKey, fc.string()), fc.oneof(fc.anything(), hostileValue)),
  },
];

/** `Validated` as documented: a value, or a non-empty list of `{field, message}` strings. */
function expectWellFormed(outcome: Validated<object>): void {
  if (outcome.ok) {
    expect(typeof outcome.value).toBe('object');
    return;
  }
  expect(outcome.errors.length).toBeGreaterThan(0);
  for (const error of outcome.errors) {
    expect(typeof error.field).toBe('string');
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
  }
}

const names = (field: string) => (error: { field: string }) => error.field === field || error.field.startsWith(`${field}.`);

afterEach(() => {
  // Nothing a validator was fed may have reached Object.prototype.
  expect(({} as Doc).polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
});

describe.each(VALIDATORS)('$name', (contract) => {
  it('passes what a well-behaved client sends', () => {
    fc.assert(
      fc.property(contract.valid, (document) => {
        const outcome = contract.validate(document);
        if (!outcome.ok) throw new Error(`refused ${JSON.stringify(document)}: ${JSON.stringify(outcome.errors)}`);
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on anything, and answers a value or named field errors', () => {
    fc.assert(
      fc.property(contract.anyInput ?? fc.oneof(fc.anything(), fc.jsonValue(), hostileValue), (input) => {
        expectWellFormed(contract.validate(input));
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on a near-valid document, and does not change it', () => {
    fc.assert(
      fc.property(mutants(contract.valid), (document) => {
        const before = JSON.stringify(document);
        expectWellFormed(contract.validate(document));
        expect(JSON.stringify(document)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a field of the wrong kind, naming it', () => {
    expect(contract.fields.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(contract.valid, fc.constantFrom(...contract.fields), (document, field) => {
        const outcome = contract.validate(withField(document, field, WRONG_KIND));
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(outcome.errors.some(names(field))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a prototype or operator key, naming it', () => {
    fc.assert(
      fc.property(contract.valid, fc.constantFrom<string>(...PROTOTYPE_KEYS, '$ne', '$where'), hostileValue, (document, key, value) => {
        const outcome = contract.validate(withField(document, key, value));
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(outcome.errors.some(names(key))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('parseServiceQuery', () => {
  it('refuses a single-valued parameter given twice, naming it', () => {
    const single = declaredFields(ServiceQueryDto).filter((field) => !['tags', 'metadata'].includes(field));
    fc.assert(
      fc.property(fc.constantFrom(...single), fc.array(fc.string({ maxLength: 10 }), { minLength: 2, maxLength: 4 }), (field, values) => {
        const outcome = parseServiceQuery({ [field]: values });
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(outcome.errors.some(names(field))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('never throws on any parsed query string', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(
            hostileKey,
            word(10).map((key) => `metadata.${key}`),
          ),
          queryValue,
        ),
        (query) => {
          expectWellFormed(parseServiceQuery(query));
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---- The payload checks of everything read off NATS ----

interface PayloadContract {
  subject: SubscribeSubject;
  /** The subject a message arrives on (for the service family: each concrete subject). */
  on: string;
  valid: fc.Arbitrary<Doc>;
  /** Every field (dotted path) the check holds: each refuses a value of the wrong kind. */
  checked: readonly string[];
}

const envelope = (subject: EventPayloadSubject) => ({ v: fc.constant(1), type: fc.constant(eventTypeOf(subject)), timestamp: instant });
const revision = fc.nat();

/** A value of each wire kind, as registry-api writes it. */
function wireValue(spec: FieldSpec): fc.Arbitrary<unknown> {
  const kinds: Record<WireKind, () => fc.Arbitrary<unknown>> = {
    string: () => word(40),
    uuid: () => uuid,
    integer: () => fc.integer({ min: 0, max: 100_000 }),
    number: () => fc.double({ min: 0, max: 1, noNaN: true }),
    boolean: () => fc.boolean(),
    'string-list': () => tags,
    'string-map': () => stringMap,
    timestamp: () => instant,
    enum: () => fc.constantFrom(...(spec.values ?? [])),
  };
  const value = kinds[spec.kind]();
  return spec.nullable ? orNull(value) : value;
}

/** A whole service record, field by field from `SERVICE_FIELDS` (so a new field is generated with no edit here). */
const serviceOfEvent = record(
  Object.fromEntries(Object.entries(SERVICE_FIELDS).map(([name, spec]) => [name, wireValue(spec)])),
  Object.keys(SERVICE_FIELDS),
);
const SERVICE_EXTRAS: Partial<Record<EventPayloadSubject, Record<string, fc.Arbitrary<unknown>>>> = {
  [Subjects.serviceDeregistered]: { reason: fc.constantFrom('deregistered', 'purged', 'superseded') },
  [Subjects.serviceHealthChanged]: { previous_health: fc.constantFrom(...HEALTH_STATES) },
  [Subjects.serviceCriticalLoad]: {
    load: fc.double({ min: 0, max: 1, noNaN: true }),
    threshold: fc.double({ min: 0, max: 1, noNaN: true }),
  },
};
const SERVICE_SUBJECTS = Object.values(Subjects).filter((subject) => subject.startsWith('beacon.events.service.')) as EventPayloadSubject[];
/** Every field a consumer may dereference: the envelope and each field of the record. */
const BASE_SERVICE_CHECKED = [
  'v',
  'type',
  'timestamp',
  'revision',
  'service',
  ...Object.keys(SERVICE_FIELDS).map((name) => `service.${name}`),
];

const probeResult = record(
  {
    service_id: uuid,
    kind: fc.constantFrom('http', 'tcp'),
    target: fc.oneof(healthCheckUrl, healthCheckTcp),
    ok: fc.boolean(),
    health: fc.constantFrom(...HEALTH_STATES),
    outcome: fc.constantFrom(...PROBE_OUTCOMES),
    status_code: orNull(fc.integer({ min: 100, max: 599 })),
    response_time_ms: fc.double({ min: 0, max: 1e6, noNaN: true }),
    load: orNull(fc.double({ min: 0, max: 1, noNaN: true })),
    error: orNull(fc.string({ maxLength: 100 })),
    checked_at: instant,
    prober_id: word(40),
  },
  [
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
  ],
);
const PROBE_RESULT_FIELDS = [
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
];

const PAYLOADS: PayloadContract[] = [
  ...SERVICE_SUBJECTS.flatMap((subject) =>
    [subject, SERVICE_EVENTS_WILDCARD].map((subscribed): PayloadContract => ({
      subject: subscribed as SubscribeSubject,
      on: subject,
      valid: record({ ...envelope(subject), revision, service: serviceOfEvent, ...SERVICE_EXTRAS[subject] }, [
        'v',
        'type',
        'timestamp',
        'revision',
        'service',
        ...Object.keys(SERVICE_EXTRAS[subject] ?? {}),
      ] as never[]),
      checked: [...BASE_SERVICE_CHECKED, ...Object.keys(SERVICE_EXTRAS[subject] ?? {})],
    })),
  ),
  {
    subject: Subjects.probeResult,
    on: Subjects.probeResult,
    valid: record({ ...envelope(Subjects.probeResult), result: probeResult }, ['result']),
    checked: ['result', ...PROBE_RESULT_FIELDS.map((field) => `result.${field}`)],
  },
  {
    subject: Subjects.nodeRoleChanged,
    on: Subjects.nodeRoleChanged,
    valid: record(
      {
        ...envelope(Subjects.nodeRoleChanged),
        node: record(
          {
            node_id: word(40),
            role: fc.constantFrom('server', 'agent'),
            server_host: orNull(host),
            server_port: orNull(port),
            fencing_token: orNull(fc.nat()),
          },
          ['node_id', 'role', 'server_host', 'server_port', 'fencing_token'],
        ),
      },
      ['v', 'type', 'timestamp', 'node'],
    ),
    checked: ['v', 'type', 'timestamp', 'node', 'node.node_id', 'node.role', 'node.server_host', 'node.server_port', 'node.fencing_token'],
  },
  ...['health-prober', 'ttl-reaper'].map((app): PayloadContract => ({
    subject: membersSubject(app),
    on: membersSubject(app),
    valid: record(
      {
        v: fc.constant(1),
        app: fc.constant(app),
        member_id: word(40),
        interval_ms: fc.integer({ min: 1, max: 60_000 }),
        leaving: fc.boolean(),
        timestamp: instant,
      },
      ['v', 'app', 'member_id', 'interval_ms', 'leaving', 'timestamp'],
    ),
    checked: ['v', 'member_id', 'interval_ms', 'leaving'],
  })),
];

describe.each(PAYLOADS)('payloadCheckFor($subject) on $on', (contract) => {
  const check: PayloadCheck = payloadCheckFor(contract.subject);

  const expectAnswer = (problem: unknown): void => {
    if (problem !== null) {
      expect(typeof problem).toBe('string');
      expect((problem as string).length).toBeGreaterThan(0);
    }
  };

  it('passes what Beacon publishes there', () => {
    fc.assert(
      fc.property(contract.valid, (document) => {
        const problem = check(document, contract.on);
        if (problem !== null) throw new Error(`refused ${JSON.stringify(document)}: ${problem}`);
      }),
      { numRuns: 100 },
    );
  });

  it('never throws on anything, and answers null or a problem', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), hostileValue), (document) => expectAnswer(check(document, contract.on))),
      { numRuns: 200 },
    );
  });

  it('never throws on a near-valid document, at any depth', () => {
    const deep = contract.valid.chain((document) =>
      fc.tuple(fc.constantFrom(...contract.checked), hostileValue).map(([path, value]) => withPath(document, path, value)),
    );
    fc.assert(
      fc.property(fc.oneof(mutants(contract.valid), deep), (document) => expectAnswer(check(document, contract.on))),
      { numRuns: 300 },
    );
  });

  it('refuses each field it holds when of the wrong kind', () => {
    fc.assert(
      fc.property(contract.valid, fc.constantFrom(...contract.checked), (document, path) => {
        expect(check(withPath(document, path, WRONG_KIND), contract.on)).toEqual(expect.any(String));
      }),
      { numRuns: 100 },
    );
  });
});

describe('payloadCheckFor on the service family', () => {
  it("refuses an event on another event's subject", () => {
    const check = payloadCheckFor(SERVICE_EVENTS_WILDCARD);
    const pairs = fc
      .tuple(fc.constantFrom(...SERVICE_SUBJECTS), fc.constantFrom(...SERVICE_SUBJECTS))
      .filter(([from, to]) => from !== to)
      .chain(([from, to]) =>
        record({ ...envelope(from), revision, service: serviceOfEvent, ...SERVICE_EXTRAS[from] }, [
          'v',
          'type',
          'timestamp',
          'revision',
          'service',
        ]).map((document) => [document, to] as const),
      );
    fc.assert(
      fc.property(pairs, ([document, to]) => {
        expect(check(document, to)).toEqual(expect.any(String));
      }),
      { numRuns: 100 },
    );
  });
});
