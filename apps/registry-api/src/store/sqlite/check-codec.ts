import { HEALTH_STATES, PROBE_OUTCOMES, type HealthCheckEntry } from '@beacon/contracts';

/**
 * A check result (a ping) as one ring row stores it, beside its instant (`checked_at` in
 * epoch ms, a column of its own):
 *   v  one integer packing kind, health, outcome, status code and response time in
 *      0.01 ms (the prober's precision): 4 bytes for a typical result;
 *   x  null, or the whole result as a JSON array of its values (the form version 6 wrote)
 *      when it does not fit `v` exactly: it carries an error or a load, a response time
 *      finer than 0.01 ms, an unusual status code, or a checked_at text that is not its
 *      instant's canonical form. Failures carry their error, so they take this form.
 * Rows written as JSON objects by earlier versions still read (through `x`).
 */
export interface StoredCheck {
  v: number | null;
  x: string | null;
}

const KINDS = ['http', 'tcp'] as const;
/** Codes per field: kind 2, health 4, outcome 6 → 48 combinations under 64. */
const CODES = 64;
/** Status codes 0–1022 as code + 1; 0 is "none". */
const STATUSES = 1024;
const MS_SCALE = 100;
/** Response times up to ~24 days in 0.01 ms keep `v` an exact double (under 2^53). */
const MAX_TIME = 2 ** 37;

type Packed = [
  HealthCheckEntry['kind'],
  HealthCheckEntry['health'],
  HealthCheckEntry['outcome'],
  HealthCheckEntry['status_code'],
  HealthCheckEntry['response_time_ms'],
  HealthCheckEntry['load'],
  HealthCheckEntry['error'],
  string?,
];

/** The whole result as a JSON array, without `checked_at` unless its text is not the instant's canonical form. */
export function encodeCheck(entry: HealthCheckEntry, checkedAt: number): string {
  const packed: Packed = [entry.kind, entry.health, entry.outcome, entry.status_code, entry.response_time_ms, entry.load, entry.error];
  if (new Date(checkedAt).toISOString() !== entry.checked_at) packed.push(entry.checked_at);
  return JSON.stringify(packed);
}

export function decodeCheck(doc: string, checkedAt: number): HealthCheckEntry {
  if (doc.startsWith('{')) return JSON.parse(doc) as HealthCheckEntry;
  const [kind, health, outcome, status_code, response_time_ms, load, error, text] = JSON.parse(doc) as Packed;
  return { checked_at: text ?? new Date(checkedAt).toISOString(), kind, health, outcome, status_code, response_time_ms, load, error };
}

/** `v` for the result, or null when it does not fit exactly. */
function packValue(entry: HealthCheckEntry, checkedAt: number): number | null {
  if (entry.error !== null || entry.load !== null) return null;
  const kind = KINDS.indexOf(entry.kind);
  const health = HEALTH_STATES.indexOf(entry.health);
  const outcome = PROBE_OUTCOMES.indexOf(entry.outcome);
  if (kind < 0 || health < 0 || outcome < 0) return null;
  const status = entry.status_code === null ? 0 : entry.status_code + 1;
  if (!Number.isInteger(status) || status < 0 || status >= STATUSES) return null;
  const time = Math.round(entry.response_time_ms * MS_SCALE);
  if (!(time >= 0 && time < MAX_TIME) || time / MS_SCALE !== entry.response_time_ms || Object.is(entry.response_time_ms, -0)) return null;
  if (new Date(checkedAt).toISOString() !== entry.checked_at) return null;
  return (time * STATUSES + status) * CODES + kind + 2 * health + 8 * outcome;
}

export function packCheck(entry: HealthCheckEntry, checkedAt: number): StoredCheck {
  const v = packValue(entry, checkedAt);
  return v === null ? { v: null, x: encodeCheck(entry, checkedAt) } : { v, x: null };
}

export function unpackCheck(row: StoredCheck, checkedAt: number): HealthCheckEntry {
  if (row.x !== null || row.v === null) return decodeCheck(row.x ?? '[]', checkedAt);
  const code = row.v % CODES;
  const rest = (row.v - code) / CODES;
  const status = rest % STATUSES;
  return {
    checked_at: new Date(checkedAt).toISOString(),
    kind: KINDS[code % 2]!,
    health: HEALTH_STATES[(code >> 1) % 4]!,
    outcome: PROBE_OUTCOMES[code >> 3]!,
    status_code: status === 0 ? null : status - 1,
    response_time_ms: (rest - status) / STATUSES / MS_SCALE,
    load: null,
    error: null,
  };
}
