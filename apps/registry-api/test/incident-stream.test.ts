import { EVENTS_STREAM, Subjects, type Incident } from '@beacon/contracts';
import {
  fetchJson,
  startNatsServer,
  startRegistry,
  uniqueName,
  waitFor,
  type NatsServerHandle,
  type RegistryFixture,
} from '@beacon/testing';
import { connect, RetentionPolicy, StorageType } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A BEACON_EVENTS stream made by a version without incidents (its subject list lacks
 * them): registry-api brings the list up to date when it starts, so incident events
 * are stored from the first one on.
 */

let nats: NatsServerHandle;
let registry: RegistryFixture;

const OLD_SUBJECTS = [
  Subjects.serviceRegistered,
  Subjects.serviceUpdated,
  Subjects.serviceDeregistered,
  Subjects.serviceExpired,
  Subjects.serviceHealthChanged,
  Subjects.serviceCriticalLoad,
  Subjects.nodeRoleChanged,
];

beforeAll(async () => {
  nats = await startNatsServer();
  const admin = await connect({ servers: nats.url, ...nats.credentials('registry-api') });
  const jsm = await admin.jetstreamManager();
  await jsm.streams.add({ name: EVENTS_STREAM, subjects: OLD_SUBJECTS, retention: RetentionPolicy.Limits, storage: StorageType.File });
  await admin.close();
  registry = await startRegistry({ nats });
});

afterAll(async () => {
  await registry?.dispose();
  await nats?.dispose();
});

describe('an event stream made before incidents', () => {
  it('gains the incident subjects, and stores an incident event', async () => {
    const connection = await connect({ servers: nats.url, ...nats.credentials('registry-api') });
    try {
      const jsm = await connection.jetstreamManager();
      const info = await jsm.streams.info(EVENTS_STREAM);
      expect(info.config.subjects).toEqual(
        expect.arrayContaining([Subjects.incidentOpened, Subjects.incidentResolved, Subjects.incidentReminder]),
      );
      // No reaper runs here: the TTL lapses while registry-api is down, and the reconcile at its start opens the incident.
      const service = await registry.register({ name: uniqueName('stream'), host: '10.9.1.1', port: 80, ttl: 10 });
      await registry.api.stop('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 10_500));
      await registry.restart();
      const list = await fetchJson<{ incidents: Incident[] }>('GET', `${registry.base}/incidents?service_id=${service.service_id}`);
      expect(list.body.incidents).toHaveLength(1);
      const stored = await waitFor('incident.opened in BEACON_EVENTS', async () => {
        const last = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: Subjects.incidentOpened }).catch(() => null);
        return last ? last.json<{ incident: Incident }>() : undefined;
      });
      expect(stored.incident.service_id).toBe(service.service_id);
      expect(stored.incident.kind).toBe('expired');
    } finally {
      await connection.close();
    }
  });
});
