import type { mongo } from 'mongoose';
import { passed, totalsOf, type CheckPoint, type ExpiredSpan, type StoredWindow, type WindowTotals } from '../../uptime/uptime-math';
import type { UptimeStore } from '../service-store';
import type { IncidentDocument } from './mongo-incidents';
import type { HistoryDocument } from './mongo-import';

/** One window in MongoDB: `_id` is `<service_id>:<start ms>`, so writing it again replaces it. */
export interface WindowDocument extends StoredWindow {
  _id: string;
}

export const UPTIME_MARK = 'uptime_aggregated_until';

export const windowDocument = (window: StoredWindow): WindowDocument => ({ _id: `${window.service_id}:${window.start}`, ...window });

/** The checks of histories that fall in `[from, to)` (pure: the query only narrows to histories checked since `from`). */
export function checksIn(histories: readonly Pick<HistoryDocument, '_id' | 'checks'>[], from: number, to: number): CheckPoint[] {
  const points: CheckPoint[] = [];
  for (const history of histories) {
    for (const entry of history.checks) {
      const at = Date.parse(entry.checked_at);
      if (at >= from && at < to)
        points.push({ service_id: history._id, checked_at: at, ok: passed(entry), response_time_ms: entry.response_time_ms });
    }
  }
  return points;
}

/**
 * Uptime windows in MongoDB. Without transactions the windows are written before the
 * mark moves: a replica that dies between them writes the same windows again (same ids),
 * and replicas aggregating the same window write identical documents.
 */
export class MongoUptime implements UptimeStore {
  constructor(
    private readonly windowsCollection: mongo.Collection<WindowDocument>,
    private readonly histories: mongo.Collection<HistoryDocument>,
    private readonly incidents: mongo.Collection<IncidentDocument>,
    private readonly counters: mongo.Collection<{ _id: string; seq: number }>,
  ) {}

  prepare(): Promise<unknown> {
    return this.windowsCollection.createIndexes([
      { key: { service_id: 1, start: 1 }, name: 'service_start' },
      { key: { start: 1 }, name: 'start' },
    ]);
  }

  async aggregatedUntil(): Promise<number> {
    return (await this.counters.findOne({ _id: { $eq: UPTIME_MARK } }))?.seq ?? 0;
  }

  async checksBetween(from: number, to: number): Promise<CheckPoint[]> {
    const histories = await this.histories.find({ last_checked_at: { $gte: new Date(from).toISOString() } }).toArray();
    return checksIn(histories, from, to);
  }

  async expiredSpans(from: number, to: number): Promise<Map<string, ExpiredSpan[]>> {
    const docs = await this.incidents
      .find({ kind: { $eq: 'expired' }, started_ms: { $lt: to }, $or: [{ resolved_ms: { $eq: null } }, { resolved_ms: { $gt: from } }] })
      .toArray();
    const spans = new Map<string, ExpiredSpan[]>();
    for (const doc of docs)
      spans.set(doc.service_id, [...(spans.get(doc.service_id) ?? []), { start: doc.started_ms, end: doc.resolved_ms }]);
    return spans;
  }

  async saveWindows(windows: readonly StoredWindow[], until: number): Promise<void> {
    if (windows.length > 0) {
      await this.windowsCollection.bulkWrite(
        windows.map((window) => {
          const document = windowDocument(window);
          return { replaceOne: { filter: { _id: document._id }, replacement: document, upsert: true } };
        }),
        { ordered: false },
      );
    }
    await this.counters.updateOne({ _id: { $eq: UPTIME_MARK } }, { $max: { seq: until } }, { upsert: true });
  }

  async windows(serviceId: string, from: number, to: number): Promise<StoredWindow[]> {
    const docs = await this.windowsCollection
      .find({ service_id: { $eq: serviceId }, start: { $gte: from, $lt: to } })
      .sort({ start: 1 })
      .toArray();
    return docs.map(({ _id, ...window }) => window);
  }

  async windowsSince(from: number): Promise<StoredWindow[]> {
    const docs = await this.windowsCollection
      .find({ start: { $gte: from } })
      .sort({ service_id: 1, start: 1 })
      .toArray();
    return docs.map(({ _id, ...window }) => window);
  }

  async totals(from: number, to: number): Promise<Map<string, WindowTotals>> {
    const docs = await this.windowsCollection.find({ start: { $gte: from, $lt: to } }).toArray();
    const byService = new Map<string, StoredWindow[]>();
    for (const doc of docs) byService.set(doc.service_id, [...(byService.get(doc.service_id) ?? []), doc]);
    return new Map([...byService].map(([id, windows]) => [id, totalsOf(windows)]));
  }

  async trim(windowsBefore: number, pingsBefore: number, limit: number): Promise<number> {
    const old = await this.windowsCollection
      .find({ start: { $lt: windowsBefore } }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray();
    const removed =
      old.length > 0 ? (await this.windowsCollection.deleteMany({ _id: { $in: old.map((doc) => doc._id) } })).deletedCount : 0;
    const cutoff = new Date(pingsBefore).toISOString();
    const pulled = await this.histories.updateMany(
      { 'checks.checked_at': { $lt: cutoff } },
      { $pull: { checks: { checked_at: { $lt: cutoff } } } },
    );
    return removed + pulled.modifiedCount;
  }
}
