import { HEALTH_HISTORY, HEALTH_STATES, PROBE_OUTCOMES, SERVICE_FIELDS, type FieldSpec, type HealthCheckEntry } from '@beacon/contracts';
import { DomainError } from '@beacon/platform';
import { RECORD_FIELDS, STORE_ONLY_FIELDS, withMigrationDefaults, type ServiceRecord } from '../catalog/service-record';
import { TOMBSTONE_FIELDS, TOMBSTONE_REASONS, type CatalogImport, type Tombstone } from '../store/service-store';

/**
 * The export format (`application/x-ndjson`), declared once: a header line, one line per
 * service record exactly as the store keeps it (epoch milliseconds, the stored status,
 * the store-only fields), the check histories (oldest first, per service), the
 * tombstones (services an operator deleted, still remembered), and an end line with the
 * counts, so a truncated file (a dropped connection) is refused, not half
 * imported. Everything here is pure: the edges stream, the stores write.
 */
export const EXPORT_FORMAT = 'beacon-export';
export const EXPORT_VERSION = 1;
export const NDJSON = 'application/x-ndjson';

export interface ExportHeader {
  kind: typeof EXPORT_FORMAT;
  v: typeof EXPORT_VERSION;
  /** The catalog revision read before the first record. */
  revision: number;
  exported_at: string;
  backend: string;
}

export const headerLine = (revision: number, backend: string, now: number): string =>
  JSON.stringify({ kind: EXPORT_FORMAT, v: EXPORT_VERSION, revision, exported_at: new Date(now).toISOString(), backend }) + '\n';

/** A record line: `kind` first, then every stored field in the record's declared order. */
export function serviceLine(record: ServiceRecord): string {
  const line: Record<string, unknown> = { kind: 'service' };
  for (const field of RECORD_FIELDS) line[field] = record[field];
  return JSON.stringify(line) + '\n';
}

/** A check line: the entry nested under `check`, as its own `kind` (http, tcp) would clash with the line's. */
export const checkLine = (serviceId: string, entry: HealthCheckEntry): string =>
  JSON.stringify({ kind: 'check', service_id: serviceId, check: entry }) + '\n';

/** A tombstone line: `kind` first, then every stored field of the tombstone in its declared order. */
export function tombstoneLine(tombstone: Tombstone): string {
  const line: Record<string, unknown> = { kind: 'tombstone' };
  for (const field of TOMBSTONE_FIELDS) line[field] = tombstone[field];
  return JSON.stringify(line) + '\n';
}

export const endLine = (services: number, checks: number, tombstones = 0): string =>
  JSON.stringify({ kind: 'end', services, checks, tombstones }) + '\n';

/** A line of an import that is not what the format says; nothing of the file is imported. */
export class InvalidImportLine extends DomainError {
  readonly kind = 'invalid';
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`Import refused, nothing imported: line ${line}: ${reason}`);
  }
}

/** A file that is well formed line by line but not as a whole (no header, no end). */
export class InvalidImport extends DomainError {
  readonly kind = 'invalid';
  constructor(reason: string) {
    super(`Import refused, nothing imported: ${reason}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
const STORED_FIELDS: Readonly<Record<string, FieldSpec>> = { ...SERVICE_FIELDS, ...STORE_ONLY_FIELDS };
const KNOWN_FIELDS = new Set<string>(['kind', ...RECORD_FIELDS]);

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringMap = (value: unknown): boolean => isObject(value) && Object.values(value).every((item) => typeof item === 'string');

/** Whether a value is what a stored field of this kind holds (timestamps: epoch milliseconds). */
function fitsStored(spec: FieldSpec, value: unknown): boolean {
  if (value === null) return spec.nullable === true;
  switch (spec.kind) {
    case 'string':
      return typeof value === 'string';
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    case 'integer':
    case 'timestamp':
      return Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string-list':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'string-map':
      return isStringMap(value);
    case 'enum':
      return (spec.values ?? []).includes(value as string);
  }
}

const describeKind = (spec: FieldSpec): string =>
  (spec.kind === 'timestamp' ? 'epoch milliseconds' : spec.kind === 'enum' ? `one of ${spec.values?.join(', ')}` : spec.kind) +
  (spec.nullable ? ' or null' : '');

/** The record a service line holds; throws naming its first bad field. */
function recordOf(fields: Fields, line: number, now: number): ServiceRecord {
  for (const name of Object.keys(fields))
    if (!KNOWN_FIELDS.has(name)) throw new InvalidImportLine(line, `"${name}" is not a field of a service record`);
  const { kind: _kind, ...rest } = fields;
  // Files written before a field existed read as the store reads its own old rows.
  const record = withMigrationDefaults(rest);
  for (const [name, spec] of Object.entries(STORED_FIELDS)) {
    const value = (record as unknown as Fields)[name];
    if (value === undefined) throw new InvalidImportLine(line, `field "${name}" is missing`);
    if (!fitsStored(spec, value)) throw new InvalidImportLine(line, `field "${name}" must be ${describeKind(spec)}`);
  }
  if (record.port < 0 || record.port > 65535) throw new InvalidImportLine(line, 'field "port" must be 0–65535');
  if (record.status === 'expired' && record.expires_at > now) {
    throw new InvalidImportLine(line, 'field "status" is expired but "expires_at" has not passed');
  }
  return record;
}

const CHECK_FIELDS = new Set(['checked_at', 'kind', 'health', 'outcome', 'status_code', 'response_time_ms', 'load', 'error']);

/** A check line as a history entry, each field held to what the prober reports. */
function checkOf(fields: Fields, line: number): { serviceId: string; entry: HealthCheckEntry } {
  const bad = (name: string, what: string): never => {
    throw new InvalidImportLine(line, `field "${name}" must be ${what}`);
  };
  for (const name of Object.keys(fields)) {
    if (!['kind', 'service_id', 'check'].includes(name)) throw new InvalidImportLine(line, `"${name}" is not a field of a check line`);
  }
  const serviceId = fields.service_id;
  if (typeof serviceId !== 'string' || !UUID.test(serviceId)) return bad('service_id', 'a service UUID');
  const entry = fields.check;
  if (!isObject(entry)) return bad('check', 'an object (a health check entry)');
  for (const name of Object.keys(entry))
    if (!CHECK_FIELDS.has(name)) throw new InvalidImportLine(line, `"check.${name}" is not a field of a check`);
  const at = entry.checked_at;
  if (typeof at !== 'string' || !ISO_INSTANT.test(at) || Number.isNaN(Date.parse(at))) bad('check.checked_at', 'an ISO 8601 UTC instant');
  if (entry.kind !== 'http' && entry.kind !== 'tcp') bad('check.kind', 'http or tcp');
  if (!(HEALTH_STATES as readonly unknown[]).includes(entry.health)) bad('check.health', `one of ${HEALTH_STATES.join(', ')}`);
  if (!(PROBE_OUTCOMES as readonly unknown[]).includes(entry.outcome)) bad('check.outcome', `one of ${PROBE_OUTCOMES.join(', ')}`);
  const status = entry.status_code;
  if (status !== null && !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)) {
    bad('check.status_code', 'null or an HTTP status');
  }
  const time = entry.response_time_ms;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) bad('check.response_time_ms', 'a duration in milliseconds');
  const load = entry.load;
  if (load !== null && !(typeof load === 'number' && load >= 0 && load <= 1)) bad('check.load', 'null or 0–1');
  if (entry.error !== null && typeof entry.error !== 'string') bad('check.error', 'null or a string');
  return {
    serviceId,
    entry: {
      checked_at: at as string,
      kind: entry.kind as HealthCheckEntry['kind'],
      health: entry.health as HealthCheckEntry['health'],
      outcome: entry.outcome as HealthCheckEntry['outcome'],
      status_code: status as number | null,
      response_time_ms: time as number,
      load: load as number | null,
      error: entry.error as string | null,
    },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Each non-blank line of `bytes` with its 1-based number, decoded one at a time (never the whole body as one string). */
function* linesOf(bytes: Buffer): Generator<{ number: number; text: string }> {
  let start = 0;
  let number = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline;
    number += 1;
    let text: string;
    try {
      text = utf8.decode(bytes.subarray(start, end));
    } catch {
      throw new InvalidImportLine(number, 'not valid UTF-8');
    }
    if (text.trim() !== '') yield { number, text };
    start = end + 1;
  }
}

function parseLine(text: string, number: number): Fields {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidImportLine(number, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(value)) throw new InvalidImportLine(number, 'not a JSON object');
  // Keys that would reach a prototype are refused, as in every other body.
  for (const key of Object.keys(value))
    if (key === '__proto__' || key === 'constructor') throw new InvalidImportLine(number, `"${key}" is not a field`);
  return value;
}

function checkHeader(fields: Fields, number: number): number {
  if (fields.kind !== EXPORT_FORMAT)
    throw new InvalidImportLine(number, `the first line must be the header, {"kind":"${EXPORT_FORMAT}",...}`);
  if (fields.v !== EXPORT_VERSION)
    throw new InvalidImportLine(number, `field "v" must be ${EXPORT_VERSION} (this registry reads version ${EXPORT_VERSION})`);
  if (!Number.isSafeInteger(fields.revision) || (fields.revision as number) < 0) {
    throw new InvalidImportLine(number, 'field "revision" must be a non-negative integer');
  }
  return fields.revision as number;
}

const isTimestamp = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;
/** The latest instant a Date can hold (year 275760): a tombstone's times are shown as ISO dates in 410 details. */
const MAX_DATE_MS = 8.64e15;
const isDate = (value: unknown): boolean => isTimestamp(value) && (value as number) <= MAX_DATE_MS;

/** Each tombstone field's test, and what the refusal says it must be. */
const TOMBSTONE_CHECKS: Readonly<Record<(typeof TOMBSTONE_FIELDS)[number], [(value: unknown) => boolean, string]>> = {
  service_id: [(value) => typeof value === 'string' && UUID.test(value), 'a service UUID'],
  name: [(value) => typeof value === 'string' && value.length > 0, 'a non-empty string'],
  type: [(value) => typeof value === 'string', 'a string'],
  host: [(value) => typeof value === 'string' && value.length > 0, 'a non-empty string'],
  port: [(value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535, 'a port (1–65535)'],
  instance_id: [(value) => value === null || typeof value === 'string', 'a string or null'],
  deleted_at: [isDate, 'epoch milliseconds (a date up to year 275760)'],
  expires_at: [isDate, 'epoch milliseconds (a date up to year 275760)'],
  reason: [(value) => TOMBSTONE_REASONS.includes(value as Tombstone['reason']), `one of ${TOMBSTONE_REASONS.join(', ')}`],
};

function tombstoneOf(fields: Fields, line: number): Tombstone {
  for (const name of Object.keys(fields)) {
    if (name !== 'kind' && !(name in TOMBSTONE_CHECKS)) throw new InvalidImportLine(line, `"${name}" is not a field of a tombstone line`);
  }
  for (const field of TOMBSTONE_FIELDS) {
    const [fits, expected] = TOMBSTONE_CHECKS[field];
    if (!fits(fields[field])) throw new InvalidImportLine(line, `field "${field}" must be ${expected}`);
  }
  if ((fields.expires_at as number) <= (fields.deleted_at as number)) {
    throw new InvalidImportLine(line, 'field "expires_at" must be after "deleted_at"');
  }
  const { kind: _kind, ...tombstone } = fields;
  return tombstone as unknown as Tombstone;
}

/** Identities a record claims: two records of one catalog may never share one. */
function identitiesOf(record: ServiceRecord): string[] {
  const keys = [`endpoint ${JSON.stringify([record.name, record.host, record.port])}`];
  if (record.instance_id !== null) keys.push(`instance ${JSON.stringify([record.name, record.instance_id])}`);
  return keys;
}

/**
 * The whole file, validated before anything is written: a header first, service lines,
 * check lines for services of the file, and the end line with matching counts. Throws
 * `InvalidImportLine` (naming the line and the field) or `InvalidImport`. `lines`: each
 * service's line, for refusals the store finds later.
 */
export function parseImport(bytes: Buffer, now: number): { data: CatalogImport; lines: Map<string, number> } {
  let revision: number | null = null;
  let ended: { line: number; services: unknown; checks: unknown; tombstones: unknown } | null = null;
  const tombstones: Tombstone[] = [];
  const tombstoneIds = new Map<string, number>();
  const records: ServiceRecord[] = [];
  const ids = new Map<string, number>();
  const identities = new Map<string, number>();
  const checks = new Map<string, HealthCheckEntry[]>();
  let checkCount = 0;
  for (const { number, text } of linesOf(bytes)) {
    const fields = parseLine(text, number);
    if (ended) throw new InvalidImportLine(number, `nothing may follow the end line (line ${ended.line})`);
    if (revision === null) {
      revision = checkHeader(fields, number);
      continue;
    }
    if (fields.kind === 'service') {
      const record = recordOf(fields, number, now);
      const seen = ids.get(record.service_id);
      if (seen !== undefined) throw new InvalidImportLine(number, `service_id ${record.service_id} is already on line ${seen}`);
      for (const identity of identitiesOf(record)) {
        const holder = identities.get(identity);
        if (holder !== undefined) throw new InvalidImportLine(number, `its ${identity} is already held by line ${holder}`);
        identities.set(identity, number);
      }
      ids.set(record.service_id, number);
      records.push(record);
      revision = Math.max(revision, record.revision);
    } else if (fields.kind === 'check') {
      const { serviceId, entry } = checkOf(fields, number);
      if (!ids.has(serviceId)) throw new InvalidImportLine(number, `field "service_id": no service line before it has ${serviceId}`);
      const history = checks.get(serviceId) ?? [];
      history.push(entry);
      checks.set(serviceId, history);
      checkCount += 1;
    } else if (fields.kind === 'tombstone') {
      const tombstone = tombstoneOf(fields, number);
      const seen = tombstoneIds.get(tombstone.service_id);
      if (seen !== undefined) throw new InvalidImportLine(number, `a tombstone of ${tombstone.service_id} is already on line ${seen}`);
      tombstoneIds.set(tombstone.service_id, number);
      tombstones.push(tombstone);
    } else if (fields.kind === 'end') {
      // Files written before tombstones were exported have no count: none.
      ended = { line: number, services: fields.services, checks: fields.checks, tombstones: fields.tombstones ?? 0 };
    } else {
      throw new InvalidImportLine(number, 'field "kind" must be service, check, tombstone or end');
    }
  }
  if (revision === null) throw new InvalidImport('the body is empty: send the lines GET /api/v1/export wrote');
  if (!ended) throw new InvalidImport('no end line: the file is truncated (export again)');
  if (ended.services !== records.length || ended.checks !== checkCount || ended.tombstones !== tombstones.length) {
    throw new InvalidImportLine(
      ended.line,
      `the end line counts ${String(ended.services)} services, ${String(ended.checks)} checks and ${String(ended.tombstones)} tombstones; ` +
        `the file holds ${records.length}, ${checkCount} and ${tombstones.length}`,
    );
  }
  // The store keeps the newest of each history; so does an import.
  for (const [id, history] of checks)
    if (history.length > HEALTH_HISTORY.perService) checks.set(id, history.slice(-HEALTH_HISTORY.perService));
  // A tombstone past its time is forgotten, as the store would have forgotten it.
  const live = tombstones.filter((tombstone) => tombstone.expires_at > now);
  return { data: { revision, records, checks, tombstones: live }, lines: ids };
}
