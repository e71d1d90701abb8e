import { HEALTH_STATES, SERVICE_FIELDS, WEBHOOK_EVENT_TYPES, WEBHOOK_FORMATS, type FieldSpec, type WireKind } from '@beacon/contracts';
import fc from 'fast-check';

/**
 * Generators shared by the fuzzing suites: what a well-behaved client sends, near-valid
 * mutants of it, and the hostile values and raw bytes an attacker would try instead.
 * Well-formed values stay conservative (lower-case words, LAN addresses, a few tags), so
 * they stay well-formed while the validators and limits grow stricter.
 */

export type Doc = Record<string, unknown>;

/** A copy of `base` with `key` as an own property, `__proto__` included (plain assignment would set the prototype). */
export function withField(base: Doc, key: string, value: unknown): Doc {
  const copy: Doc = { ...base };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Never a valid value of any field: every field's first rule is about its kind or its items being strings. */
export const WRONG_KIND = { nested: { deeper: [1] } };

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

export function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? [value] : { a: value };
  return value;
}

const controlText = fc.string({
  unit: fc.integer({ min: 0, max: 31 }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 8,
});

/** JSON values no field should meet without a plain refusal: wrong kinds, extremes, control characters, pollution attempts. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
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
  controlText,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant('x'.repeat(20_000)),
  fc.constant(Array.from({ length: 2_000 }, (_, index) => `t${index}`)),
  fc.integer({ min: 2, max: 500 }).map(nested),
  fc.constantFrom<unknown>(
    JSON.parse('{"__proto__": {"polluted": true}}'),
    JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
    { $ne: '' },
    { $gt: '' },
  ),
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom<string>(...PROTOTYPE_KEYS),
  fc.constantFrom('$ne', '$where', 'a[$ne]', '', ' ', 'a\u0000b', 'metadata.__proto__', 'metadata.constructor', 'metadata.'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);

/** One field of a valid document replaced by a hostile value, one hostile key added, or one field removed. */
export function mutants(valid: fc.Arbitrary<Doc>): fc.Arbitrary<Doc> {
  return valid.chain((document) => {
    const keys = Object.keys(document);
    if (keys.length === 0) return fc.tuple(hostileKey, hostileValue).map(([key, value]) => withField(document, key, value));
    return fc.oneof(
      fc.tuple(fc.constantFrom(...keys), hostileValue).map(([key, value]) => withField(document, key, value)),
      fc.tuple(hostileKey, hostileValue).map(([key, value]) => withField(document, key, value)),
      fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(document).filter(([name]) => name !== key))),
    );
  });
}

// ---- Well-formed values ----

const record = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T, requiredKeys: (keyof T & string)[] = []): fc.Arbitrary<Doc> =>
  fc.record(fields, { requiredKeys, noNullPrototype: true });

export const word = (max: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[a-z0-9][a-z0-9._-]{0,${max - 1}}$`));
export const orNull = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arbitrary, { nil: null });
/** A LAN address (10/8): allowed as a registration target and never probed from here. */
export const lanAddress = fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `10.${a}.${b}.${c}`);
export const port = fc.integer({ min: 1, max: 65535 });
export const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
export const uuid = fc.uuid({ version: 4 });
export const tags = fc.uniqueArray(word(20), { maxLength: 4 });
export const stringMap = fc.dictionary(word(20), fc.string({ maxLength: 40 }), { maxKeys: 4, noNullPrototype: true });
const healthCheckUrl = fc.tuple(lanAddress, port).map(([address, number]) => `http://${address}:${number}/health`);
const mdnsType = fc.stringMatching(/^_[a-z][a-z0-9]{0,9}\._(tcp|udp)$/).filter((type) => !type.includes('beacon'));

/** A name this run's fuzzing owns (`fz-…`), so the suites' own records are never touched by it. */
export const fuzzName = word(30).map((name) => `fz-${name}`);

const registrationFields = {
  name: fuzzName,
  type: word(20),
  host: lanAddress,
  port,
  protocol: word(10),
  tags,
  metadata: stringMap,
  version: word(20),
  node_id: word(30),
  instance_id: word(30),
  ttl: fc.integer({ min: 10, max: 3600 }),
  health_check_url: healthCheckUrl,
  health_check_interval: fc.integer({ min: 60, max: 3600 }),
  health_check_timeout: fc.integer({ min: 1, max: 30 }),
  health_check_retries: fc.integer({ min: 1, max: 10 }),
  mdns_service_type: mdnsType,
  mdns_txt_records: stringMap,
};

/** `POST /api/v1/services/register` (and NATS registrations). */
export const registrationBody = record(registrationFields, ['name', 'host', 'port']);

const { instance_id: _instanceId, ...patchable } = registrationFields;

/** `PUT /api/v1/services/{id}`. */
export const updateBody = record({ ...patchable, status: fc.constantFrom('active', 'inactive'), version: orNull(word(20)) });

/** `POST /api/v1/services/discover`. */
export const filterBody = record({
  type: word(20),
  tags: fc.oneof(
    tags,
    tags.map((list) => list.join(',')),
  ),
  name: fuzzName,
  status: fc.constantFrom('active', 'inactive', 'expired', 'unhealthy'),
  health: fc.constantFrom(...HEALTH_STATES),
  metadata: stringMap,
});

/**
 * `POST`/`PUT /api/v1/webhooks`. URLs stay on loopback (the suite also confines both apps
 * to it with `PROBE_ALLOW_CIDRS`), so a webhook the fuzzer creates sends nothing elsewhere.
 */
export const webhookBody = record(
  {
    url: fc.oneof(
      fc.constantFrom('http://127.0.0.1:9/hook', 'http://127.0.0.1:9/hook?token=abc', 'https://[::1]:9/x', 'http://user:pw@127.0.0.1:9/'),
      fc.string({ maxLength: 60 }).map((path) => `http://127.0.0.1:9/${encodeURIComponent(path)}`),
    ),
    events: fc.oneof(fc.constant(['*']), fc.uniqueArray(fc.constantFrom(...WEBHOOK_EVENT_TYPES), { minLength: 1 })),
    format: fc.constantFrom(...WEBHOOK_FORMATS),
    service_id: fc.uuid(),
    type: word(20),
    tags,
    secret: fc.string({ minLength: 16, maxLength: 64 }),
    description: fc.string({ maxLength: 200 }),
    enabled: fc.boolean(),
  },
  ['url', 'events'],
);

/** `POST /api/v1/incidents/{id}/resolve` and `/acknowledge`. */
export const incidentNoteBody = record({ note: fc.string({ maxLength: 500 }) });

/** `POST /v1/discovery/register`. */
export const discoveryRegisterBody = record(
  {
    service_name: fuzzName,
    instance_id: word(30),
    host: lanAddress,
    port,
    health_endpoint: fc.stringMatching(/^\/[a-z0-9/]{0,20}$/),
    metadata: stringMap,
  },
  ['service_name', 'instance_id', 'host', 'port'],
);

/** `POST /v1/discovery/heartbeat`. */
export const discoveryHeartbeatBody = record({ service_name: fuzzName, instance_id: word(30) }, ['service_name', 'instance_id']);

/** A value of each wire kind, as registry-api writes it. */
function wireValue(spec: FieldSpec): fc.Arbitrary<unknown> {
  const kinds: Record<WireKind, () => fc.Arbitrary<unknown>> = {
    string: () => word(30),
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

/** A whole service record as events carry it, field by field from `SERVICE_FIELDS`. */
export const serviceRecord: fc.Arbitrary<Doc> = record(
  Object.fromEntries(Object.entries(SERVICE_FIELDS).map(([name, spec]) => [name, wireValue(spec)])),
  Object.keys(SERVICE_FIELDS),
);

// ---- Raw bytes ----

/** Every byte as `%XX`: any byte sequence (invalid UTF-8 included) as a path segment or query component. */
export function percentEncoded(bytes: Uint8Array): string {
  return [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

/** A URL component: plain text encoded, raw bytes, a malformed escape, a traversal, or something long. */
export const urlComponent: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 30 }).map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''))),
  fc.uint8Array({ maxLength: 30 }).map(percentEncoded),
  fc.constantFrom(
    '%',
    '%zz',
    '%c3%28',
    '%ff%fe',
    '%00',
    '..',
    '..%2f..%2fetc%2fpasswd',
    '%2e%2e',
    '__proto__',
    'constructor',
    '$ne',
    'a%5B%24ne%5D',
  ),
  fc.constant('a'.repeat(1_500)),
);

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Bodies no JSON client sends: broken JSON, invalid UTF-8, extreme numbers, deep nesting, duplicate and pollution keys. */
export const hostileJsonBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 200 }).map(utf8),
  fc
    .uint8Array({ minLength: 1, maxLength: 8 })
    .map((bytes) =>
      Buffer.concat([utf8('{"name":"fz-'), bytes, utf8('","host":"10.0.0.1","port":80,"metadata":{"k":"'), bytes, utf8('"}}')]),
    ),
  fc
    .constantFrom(
      '{"name":"fz-big","host":"10.0.0.1","port":1e999}',
      '{"name":"fz-big","host":"10.0.0.1","port":123456789012345678901234567890}',
      '{"name":"fz-big","host":"10.0.0.1","port":-0,"ttl":1e-400}',
      '{"name":"fz-dup","name":{"$ne":""},"host":"10.0.0.1","port":80}',
      '{"__proto__":{"polluted":true},"name":"fz-proto","host":"10.0.0.1","port":80}',
      '{"constructor":{"prototype":{"polluted":true}},"name":"fz-proto","host":"10.0.0.1","port":80}',
      '{"name":"fz-trailing","host":"10.0.0.1","port":80,}',
      '{"name":"\\ud800","host":"10.0.0.1","port":80}',
      '\ufeff{"name":"fz-bom","host":"10.0.0.1","port":80}',
      'null',
      '""',
      '[]',
      '',
    )
    .map(utf8),
  fc.integer({ min: 10, max: 20_000 }).map((depth) => utf8(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
  fc.integer({ min: 10, max: 5_000 }).map((depth) => utf8(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
  fc
    .integer({ min: 10, max: 2_000 })
    .map((depth) => utf8(`{"name":"fz-deep","host":"10.0.0.1","port":80,"metadata":${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}}`)),
);

/** Content types a JSON route may be sent instead. */
export const contentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/vnd.api+json',
  'json',
  undefined,
);
