import type { KV } from 'nats';
import type { Logger } from 'pino';

/** A write lost the race: the key was not at the revision the write expected (or, for `create`, existed). */
export class RevisionConflict extends Error {
  constructor(key: string) {
    super(`${key} has moved on`);
    this.name = 'RevisionConflict';
  }
}

const WRONG_LAST_SEQUENCE = 10071;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function conflictOr(error: unknown, key: string): unknown {
  return (error as { api_error?: { err_code?: number } } | null)?.api_error?.err_code === WRONG_LAST_SEQUENCE
    ? new RevisionConflict(key)
    : error;
}

/**
 * Says that the bucket's stream has fewer replicas than wanted, and how to raise them. Not
 * done here: raised from R1 to R3 on nats-server 2.9.10, the election bucket came back from
 * a leader's loss at an old revision once, and a second node took the lease while the
 * first still held it (issue 14 item 6's cluster test). A fencing token must never go back.
 */
function warnFewReplicas(stream: string, have: number, { wanted, logger }: { wanted: number; logger: Logger }): void {
  logger.warn(
    { stream, replicas: have, wanted },
    `JetStream KV bucket ${stream} has ${have} replica(s), fewer than BEACON_JETSTREAM_REPLICAS=${wanted}: losing the NATS node that ` +
      `holds it stops the election until that node is back. Stop every elector, delete it (nats kv del ${stream.replace(/^KV_/, '')}), ` +
      'and the first elector to start makes it again with the configured replicas',
  );
}

/** A key's current value: `value` is its JSON, or undefined when it holds something that is not JSON. */
export interface LeaseEntry {
  revision: number;
  value: unknown;
}

/**
 * A JetStream KV bucket used for leases: every write is conditional (create-if-absent, or
 * update at the revision the writer last saw), so the revision is a fencing token, and
 * the bucket's TTL is the lease (nats-server 2.9 has no per-key TTL: an unrefreshed key
 * ages out of the bucket). Values are JSON documents.
 */
export class LeaseBucket {
  private constructor(
    private readonly kv: KV,
    /** The TTL the store enforces, which a bucket made earlier may have with another value than asked for. */
    readonly ttlMs: number,
  ) {}

  /**
   * Binds to `kv` and reads the TTL it enforces. nats.js sets replicas only when it creates
   * the bucket: one made earlier with fewer than `replicas.wanted` is logged (see `warnFewReplicas`).
   */
  static async open(kv: KV, replicas?: { wanted: number; logger: Logger }): Promise<LeaseBucket> {
    const status = await kv.status();
    if (replicas && status.replicas < replicas.wanted) warnFewReplicas(status.streamInfo.config.name, status.replicas, replicas);
    return new LeaseBucket(kv, status.ttl);
  }

  /** Writes `value` only if `key` holds nothing; returns the new revision, or throws `RevisionConflict`. */
  async create(key: string, value: unknown): Promise<number> {
    try {
      return await this.kv.create(key, encoder.encode(JSON.stringify(value)));
    } catch (error) {
      throw conflictOr(error, key);
    }
  }

  /** Writes `value` only if `key` is still at `revision`; returns the new revision, or throws `RevisionConflict`. */
  async update(key: string, value: unknown, revision: number): Promise<number> {
    try {
      return await this.kv.update(key, encoder.encode(JSON.stringify(value)), revision);
    } catch (error) {
      throw conflictOr(error, key);
    }
  }

  /** The key's value, or null when it holds none (never written, lapsed, or deleted). */
  async get(key: string): Promise<LeaseEntry | null> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return null;
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(entry.value));
    } catch {
      value = undefined;
    }
    return { revision: entry.revision, value };
  }

  /** Deletes the key only if it is still at `revision` (a lease given up by its holder); throws otherwise. */
  async delete(key: string, revision: number): Promise<void> {
    try {
      await this.kv.delete(key, { previousSeq: revision });
    } catch (error) {
      throw conflictOr(error, key);
    }
  }
}
