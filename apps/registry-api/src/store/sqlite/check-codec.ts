import type { HealthCheckEntry } from '@beacon/contracts';

/**
 * A check result (a ping) as one row's text: a JSON array of its values in a fixed order,
 * without the field names and without `checked_at`, which the row keeps as a number
 * (unless its text is not that number's canonical ISO form, then it rides along last).
 * About a third of the object's JSON; rows written as objects by earlier versions still read.
 */
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
