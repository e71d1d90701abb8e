import { Subjects, WIRE_VERSION } from '@beacon/contracts';
import Database, { type Database as Db } from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../../catalog/registration';
import { toWire, type ServiceRecord } from '../../catalog/service-record';
import type { OutboxEvent } from '../service-store';
import { SqliteStore } from './sqlite-store';

let dir: string;
let path: string;
let store: SqliteStore;

const registered = (record: ServiceRecord): OutboxEvent => ({
  subject: Subjects.serviceRegistered,
  payload: {
    v: WIRE_VERSION,
    type: 'service.registered',
    timestamp: new Date().toISOString(),
    revision: record.revision,
    service: toWire(record, Date.now()),
  },
});

const register = (name: string, port: number) =>
  store.register(
    { name, host: '10.0.0.1', port },
    (existing) => draftRegistration({ name, host: '10.0.0.1', port }, existing, Date.now(), BUILT_IN_DEFAULTS),
    ({ record }) => [registered(record)],
  );

const open = (options: { outboxMaxEvents?: number } = {}): SqliteStore => new SqliteStore({ path, synchronous: 'normal', ...options });

/** An entry's payload, as the publisher sends it. */
const payloadOf = (entry: { data: string }): { revision: number; service: { service_id: string; name: string } } =>
  JSON.parse(entry.data) as { revision: number; service: { service_id: string; name: string } };

/** The store's connection, to make SQLite refuse writes the way a full disk would. */
const connection = (target: SqliteStore): Db => (target as unknown as { db: Db }).db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beacon-outbox-'));
  path = join(dir, 'beacon.db');
  store = open();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore outbox', () => {
  it('keeps each change’s events, in order, across a reopen, until they are marked done', async () => {
    const outcomes = [];
    for (let index = 0; index < 5; index++) outcomes.push(await register(`svc-${index}`, index + 1));
    await store.close();
    store = open();
    const page = await store.outboxPage(10);
    expect(page.map((entry) => payloadOf(entry).service.service_id)).toEqual(outcomes.map((o) => o.record.service_id));
    expect(page.map((entry) => payloadOf(entry).revision)).toEqual(outcomes.map((o) => o.record.revision));
    expect(page.every((entry) => entry.subject === Subjects.serviceRegistered)).toBe(true);
    expect(new Set(page.map((entry) => entry.id)).size).toBe(5);
    expect(await store.outboxState()).toMatchObject({ depth: 5 });

    await store.outboxDone(page.slice(0, 3));
    expect((await store.outboxPage(10)).map((entry) => entry.seq)).toEqual(page.slice(3).map((entry) => entry.seq));
    await store.close();
    store = open();
    expect((await store.outboxState()).depth).toBe(2);
  });

  it('never gives two entries the same id, even after the outbox emptied and the store reopened', async () => {
    await register('a', 1);
    const [first] = await store.outboxPage(10);
    await store.outboxDone(first ? [first] : []);
    expect(await store.outboxState()).toEqual({ depth: 0, oldest: null });
    await store.close();
    store = open();
    await register('b', 2);
    const [second] = await store.outboxPage(10);
    expect(second?.id).not.toBe(first?.id);
    expect(second?.seq).toBeGreaterThan(first?.seq ?? 0);
    // A new file is a new epoch: its ids never meet the old file's in JetStream's duplicate window.
    const other = new SqliteStore({ path: join(dir, 'other.db'), synchronous: 'normal' });
    try {
      await other.register(
        { name: 'c', host: '10.0.0.1', port: 3 },
        (existing) => draftRegistration({ name: 'c', host: '10.0.0.1', port: 3 }, existing, Date.now(), BUILT_IN_DEFAULTS),
        ({ record }) => [registered(record)],
      );
      const [elsewhere] = await other.outboxPage(1);
      expect(elsewhere?.seq).toBe(1);
      expect(elsewhere?.id.split('-')[0]).not.toBe(first?.id.split('-')[0]);
    } finally {
      await other.close();
    }
  });

  it('loses the events together with the change when the commit fails', async () => {
    await register('kept', 1);
    connection(store).pragma('query_only = ON');
    await expect(register('lost', 2)).rejects.toThrow();
    connection(store).pragma('query_only = OFF');
    const page = await store.outboxPage(10);
    expect(page.map((entry) => payloadOf(entry).service.name)).toEqual(['kept']);
    expect((await store.outboxState()).depth).toBe(1);
  });

  it('drops the oldest entries not yet handed out past outboxMaxEvents, and counts them', async () => {
    await store.close();
    store = open({ outboxMaxEvents: 3 });
    await register('a', 1);
    const [claimed] = await store.outboxPage(1); // handed to the publisher: never dropped
    for (const [index, name] of ['b', 'c', 'd', 'e'].entries()) await register(name, index + 2);
    const names = (await store.outboxPage(10)).map((entry) => payloadOf(entry).service.name);
    expect(names).toEqual(['a', 'd', 'e']);
    expect(store.outboxDropped).toBe(2);
    expect((await store.outboxState()).depth).toBe(3);
    expect(claimed?.seq).toBeDefined();
  });

  it('opens a file of the previous schema (no outbox yet) and starts one', async () => {
    await register('old', 1);
    await store.close();
    const db = new Database(path);
    db.exec(`DROP TABLE outbox; DELETE FROM meta WHERE key = 'outbox_epoch'; UPDATE meta SET value = 4 WHERE key = 'schema_version'`);
    db.close();
    store = open();
    expect((await store.list({}, { limit: 10, skip: 0 }, Date.now())).total).toBe(1);
    expect(await store.outboxState()).toEqual({ depth: 0, oldest: null });
    await register('new', 2);
    expect((await store.outboxPage(10)).map((entry) => payloadOf(entry).service.name)).toEqual(['new']);
  });
});
