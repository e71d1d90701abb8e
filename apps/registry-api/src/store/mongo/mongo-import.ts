import type { HealthCheckEntry } from '@beacon/contracts';
import type mongoose from 'mongoose';
import type { ServiceRecord } from '../../catalog/service-record';
import { toDocument, type ServiceDocument } from './mongo-query';

/**
 * An import's writes, as MongoDB takes them: pure, so the translation is unit-tested
 * without a server. Without multi-document transactions an import cannot be one atomic
 * write; everything is validated before the first of these runs, and each is an upsert
 * by `_id`, so repeating an interrupted import with `merge=true` finishes it.
 */

/** A service's check history document (the store's `health_checks` collection). */
export interface HistoryDocument {
  _id: string;
  checks: HealthCheckEntry[];
  /** The newest `checked_at` (ISO), so recent checks are counted without opening idle histories. */
  last_checked_at?: string;
}

type Write<T extends mongoose.mongo.Document> = mongoose.mongo.AnyBulkWriteOperation<T>;

/** Writes per `bulkWrite` call: bounded so one call stays well under MongoDB's 48 MB message. */
export const IMPORT_BATCH = 1000;

/** Each record replaces whatever has its id (or is inserted), in the store's document layout. */
export function serviceWrites(records: readonly ServiceRecord[]): Write<ServiceDocument>[] {
  return records.map((record) => {
    const { _id, ...replacement } = toDocument(record);
    return { replaceOne: { filter: { _id }, replacement: replacement as ServiceDocument, upsert: true } };
  });
}

/**
 * Each imported service's history becomes the file's: replaced by its checks (oldest
 * first, as `$push` with `$slice` keeps them), or removed when the file has none.
 */
export function historyWrites(
  records: readonly ServiceRecord[],
  checks: ReadonlyMap<string, HealthCheckEntry[]>,
): Write<HistoryDocument>[] {
  return records.map((record) => {
    const _id = record.service_id;
    const history = checks.get(_id) ?? [];
    if (history.length === 0) return { deleteOne: { filter: { _id } } };
    const newest = history.reduce((latest, entry) => (entry.checked_at > latest ? entry.checked_at : latest), '');
    return { replaceOne: { filter: { _id }, replacement: { checks: history, last_checked_at: newest } as HistoryDocument, upsert: true } };
  });
}

/**
 * The counter update that reserves an import's revisions in one atomic step: the counter
 * becomes max(counter, the file's revision) + `count`, so the block below it belongs to
 * the import even while other replicas keep registering.
 */
export function revisionReservation(fileRevision: number, count: number): mongoose.mongo.Document[] {
  return [{ $set: { seq: { $add: [{ $max: [{ $ifNull: ['$seq', 0] }, fileRevision] }, count] } } }];
}

/** Splits writes into `bulkWrite`-sized batches. */
export function batches<T>(items: readonly T[], size = IMPORT_BATCH): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}
