import { HEALTH_HISTORY } from '@beacon/contracts';
import { ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable } from '@nestjs/common';
import { CatalogFull } from '../catalog/catalog.errors';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import type { ServiceRecord } from '../catalog/service-record';
import {
  CatalogFullError,
  IdentityConflictError,
  SERVICE_STORE,
  StoreNotEmptyError,
  type ImportOutcome,
  type ServiceStore,
} from '../store/service-store';
import { CatalogNotEmpty, ImportIdentityTaken } from './export.errors';
import { checkLine, endLine, headerLine, parseImport, serviceLine, tombstoneLine } from './export-lines';

/** Records per store read, and so per chunk written to the client (about 1 MB of lines). */
const PAGE = 1000;

export interface ImportResult extends ImportOutcome {
  /** Service records in the file. */
  services: number;
  /** Check history entries in the file. */
  checks: number;
  /** Tombstones in the file that were still in force (expired ones are skipped). */
  tombstones: number;
  merge: boolean;
}

/**
 * Export and import of the whole catalog, for moving between stores (SQLite to MongoDB)
 * or between boxes. Neither publishes an event: see `importCatalog` for how consumers
 * converge.
 */
@Injectable()
export class ExportService {
  constructor(
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
  ) {}

  /**
   * The export, a chunk of lines per store page, produced as the client reads (the stream
   * waits on the socket), so memory holds one page and the ids, never the whole file.
   * Records come in the store's snapshot order, then each one's history, oldest first.
   * Writes may go on meanwhile: the header's revision is read before the first page, and
   * an import takes the highest revision it finds.
   */
  async *lines(now: number): AsyncGenerator<string> {
    let page = await this.store.snapshotPage(null, PAGE);
    yield headerLine(page.revision, this.store.backend, now);
    const ids: string[] = [];
    for (;;) {
      yield page.records.map(serviceLine).join('');
      for (const record of page.records) ids.push(record.service_id);
      if (page.next === null) break;
      page = await this.store.snapshotPage(page.next, PAGE);
    }
    let checks = 0;
    for (let start = 0; start < ids.length; start += PAGE) {
      let chunk = '';
      for (const id of ids.slice(start, start + PAGE)) {
        const history = await this.store.healthChecks(id, HEALTH_HISTORY.perService, 0);
        for (const entry of history.checks.reverse()) chunk += checkLine(id, entry);
        checks += history.checks.length;
      }
      yield chunk;
    }
    // Bounded by BEACON_TOMBSTONE_MAX, and small (about 250 bytes each).
    const tombstones = await this.store.liveTombstones(now);
    for (let start = 0; start < tombstones.length; start += PAGE)
      yield tombstones
        .slice(start, start + PAGE)
        .map(tombstoneLine)
        .join('');
    yield endLine(ids.length, checks, tombstones.length);
  }

  /**
   * Loads an export, all or nothing: every line is validated before the store is
   * touched, and the store writes it in one step. Nothing is published per record (a
   * registered event for each of 100k services would flood every consumer): consumers
   * (ttl-reaper, realtime-gateway, mdns-announcer) adopt the imported catalog at their
   * next periodic snapshot resync, within BEACON_RESYNC_INTERVAL; merged records carry
   * revisions above any they hold, so the resync reports each as a change.
   */
  async importCatalog(bytes: Buffer, merge: boolean): Promise<ImportResult> {
    const now = Date.now();
    const { data, lines } = parseImport(bytes, now);
    // An imported tombstone lasts no longer than one this registry leaves itself (none with a TTL of 0).
    const ttl = this.config.BEACON_TOMBSTONE_TTL * 1000;
    data.tombstones = ttl > 0 ? data.tombstones?.map((each) => ({ ...each, expires_at: Math.min(each.expires_at, now + ttl) })) : [];
    let outcome: ImportOutcome;
    try {
      outcome = await this.store.importCatalog(data, merge);
    } catch (error) {
      throw refusal(error, data.records, lines);
    }
    const checks = [...data.checks.values()].reduce((total, history) => total + history.length, 0);
    const result = { ...outcome, services: data.records.length, checks, tombstones: data.tombstones?.length ?? 0, merge };
    this.logger.info(result, 'catalog imported; consumers catch up at their next resync');
    return result;
  }
}

/** A store's refusal in the domain's terms, naming the file's line where one is to blame. */
function refusal(error: unknown, records: readonly ServiceRecord[], lines: ReadonlyMap<string, number>): unknown {
  if (error instanceof StoreNotEmptyError) return new CatalogNotEmpty(error.size);
  if (error instanceof CatalogFullError) return new CatalogFull(error.limit);
  if (error instanceof IdentityConflictError) {
    const { holder } = error;
    const claimant = records.find(
      (record) =>
        record.name === holder.name &&
        ((record.host === holder.host && record.port === holder.port) ||
          (record.instance_id !== null && record.instance_id === holder.instance_id)),
    );
    const line = claimant ? (lines.get(claimant.service_id) ?? 0) : 0;
    return new ImportIdentityTaken(line, `service ${claimant?.service_id ?? ''}: ${error.message}; deregister one of the two first`);
  }
  return error;
}
