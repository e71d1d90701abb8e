import { ELECTION_BUCKET } from './elector';
import { EVENTS_STREAM, INCIDENT_EVENTS_WILDCARD, SERVICE_EVENTS_WILDCARD, Subjects, WEBHOOKS_STREAM, membersSubject } from './subjects';

/**
 * Who may do what on NATS: one identity per app, each allowed exactly what its job needs,
 * plus `beacon-reader` for outside subscribers. The local launcher, the test server,
 * deploy/nats and the README's Helm values are all rendered from this one declaration
 * (see `nats-server-config.ts`), so a permission changes in one place.
 */

export const BEACON_APPS = [
  'registry-api',
  'ttl-reaper',
  'health-prober',
  'mdns-announcer',
  'node-role-elector',
  'realtime-gateway',
] as const;
export type BeaconApp = (typeof BEACON_APPS)[number];

/** The read-only identity for outside subscribers (`pnpm events`, `nats sub 'beacon.events.>'`). */
export const READER_IDENTITY = 'beacon-reader';

export const NATS_IDENTITIES = [...BEACON_APPS, READER_IDENTITY] as const;
export type NatsIdentity = (typeof NATS_IDENTITIES)[number];

export interface NatsPermissions {
  /** Subjects it may publish to, requests included (wildcards as NATS reads them). */
  publish: readonly string[];
  /** Subjects it may subscribe to. */
  subscribe: readonly string[];
  /** May reply to requests it received (once each, to their reply subject): the server's `allow_responses`. */
  answersRequests: boolean;
}

/**
 * Where replies to an identity's requests arrive (nats.js `inboxPrefix`). Each identity has
 * its own, so no one else can subscribe to its replies (a snapshot reply is the catalog).
 */
export function inboxPrefix(identity: NatsIdentity): string {
  return `_INBOX.${identity}`;
}

const JS_API = '$JS.API';
/** JetStream answers `$JS.API.INFO` for every client that opens a manager (nats.js checks the account first). */
const JS_ACCOUNT_INFO = `${JS_API}.INFO`;
const streamApi = (operation: string, stream: string): string => `${JS_API}.STREAM.${operation}.${stream}`;
/** The stream behind a KV bucket. */
const ELECTION_STREAM = `KV_${ELECTION_BUCKET}`;

/**
 * Reading `BEACON_EVENTS` through consumers (realtime-gateway's ordered consumer). Not given
 * to outside readers: creating a push consumer names a deliver subject the server then
 * publishes on, which would let a reader replay stored events onto any subject.
 */
const EVENT_STREAM_CONSUMER = [
  streamApi('INFO', EVENTS_STREAM),
  `${JS_API}.CONSUMER.CREATE.${EVENTS_STREAM}`,
  `${JS_API}.CONSUMER.CREATE.${EVENTS_STREAM}.>`,
  `${JS_API}.CONSUMER.INFO.${EVENTS_STREAM}.*`,
  `${JS_API}.CONSUMER.DELETE.${EVENTS_STREAM}.*`,
  `${JS_API}.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.*`,
];

/**
 * Reading stored events one by one, by position (`pnpm events --replay`). Never given to the
 * outside reader: JetStream answers every API request from its own client, whose publishes no
 * permission checks, on whatever reply subject the request names, so a `$JS.API` request is a
 * way to publish on any subject (the election lease, the stream's own subjects).
 */
const EVENT_STREAM_MESSAGES = [streamApi('INFO', EVENTS_STREAM), streamApi('MSG.GET', EVENTS_STREAM)];

/**
 * Delivering webhooks (realtime-gateway): a durable pull consumer of `BEACON_EVENTS` that
 * fans events out (created and read with EVENT_STREAM_CONSUMER's subjects; nats-server 2.9+
 * creates named consumers on `CONSUMER.CREATE.<stream>.<name>`), its acks and naks, and the
 * `BEACON_WEBHOOKS` work queue it fills (acked publishes) and drains through another durable
 * consumer. Checked against a permissioned nats-server by the webhook tests.
 */
const WEBHOOK_DELIVERY = [
  `$JS.ACK.${EVENTS_STREAM}.>`,
  streamApi('INFO', WEBHOOKS_STREAM),
  streamApi('CREATE', WEBHOOKS_STREAM),
  streamApi('UPDATE', WEBHOOKS_STREAM),
  `${JS_API}.CONSUMER.CREATE.${WEBHOOKS_STREAM}.>`,
  `${JS_API}.CONSUMER.INFO.${WEBHOOKS_STREAM}.*`,
  `${JS_API}.CONSUMER.MSG.NEXT.${WEBHOOKS_STREAM}.*`,
  `$JS.ACK.${WEBHOOKS_STREAM}.>`,
  Subjects.webhookJobs,
  Subjects.registryWebhooks,
  Subjects.webhookDelivery,
];

/** The elector's lease: its KV bucket's stream (made on first start), its keys, reads of them. */
const ELECTION_KV = [
  streamApi('INFO', ELECTION_STREAM),
  streamApi('CREATE', ELECTION_STREAM),
  streamApi('MSG.GET', ELECTION_STREAM),
  `${JS_API}.DIRECT.GET.${ELECTION_STREAM}.>`,
  `$KV.${ELECTION_BUCKET}.>`,
];

/** Keeping a view of the catalog (`CatalogView`): its events and the snapshot it starts from. */
const CATALOG_VIEW = { publish: [Subjects.registrySnapshot], subscribe: [SERVICE_EVENTS_WILDCARD] };

/** Replicas that share work announce themselves to their own app's peers (`Membership`). */
const membership = (app: BeaconApp): string[] => [membersSubject(app)];

/** What each identity needs, and nothing more (its own inbox is added by `natsPermissions`). */
const DECLARED: Record<NatsIdentity, NatsPermissions> = {
  'registry-api': {
    publish: [
      SERVICE_EVENTS_WILDCARD,
      INCIDENT_EVENTS_WILDCARD,
      Subjects.proberCheck,
      Subjects.mdnsStatus,
      Subjects.webhooksChanged,
      Subjects.webhookTest,
      // It owns BEACON_EVENTS: creates it and keeps its limits up to date.
      JS_ACCOUNT_INFO,
      streamApi('INFO', EVENTS_STREAM),
      streamApi('CREATE', EVENTS_STREAM),
      streamApi('UPDATE', EVENTS_STREAM),
    ],
    subscribe: ['beacon.registry.*', SERVICE_EVENTS_WILDCARD, Subjects.probeResult, Subjects.webhookDelivery],
    answersRequests: true,
  },
  'ttl-reaper': {
    publish: [
      Subjects.registryExpire,
      Subjects.registrySweep,
      Subjects.registryPurge,
      ...CATALOG_VIEW.publish,
      ...membership('ttl-reaper'),
    ],
    subscribe: [...CATALOG_VIEW.subscribe, ...membership('ttl-reaper')],
    answersRequests: false,
  },
  'health-prober': {
    publish: [Subjects.probeResult, ...CATALOG_VIEW.publish, ...membership('health-prober')],
    subscribe: [Subjects.proberCheck, ...CATALOG_VIEW.subscribe, ...membership('health-prober')],
    answersRequests: true,
  },
  'mdns-announcer': {
    publish: [...CATALOG_VIEW.publish],
    subscribe: [Subjects.mdnsStatus, ...CATALOG_VIEW.subscribe],
    answersRequests: true,
  },
  'node-role-elector': {
    // It creates BEACON_EVENTS where no registry-api has yet (never updates it), and stores role changes in it.
    publish: [
      Subjects.nodeRoleChanged,
      JS_ACCOUNT_INFO,
      streamApi('CREATE', EVENTS_STREAM),
      streamApi('INFO', EVENTS_STREAM),
      ...ELECTION_KV,
    ],
    subscribe: [Subjects.electorStatus],
    answersRequests: true,
  },
  'realtime-gateway': {
    // Its identity also replays for `pnpm events --replay` on the box (stream reads only).
    publish: [...CATALOG_VIEW.publish, JS_ACCOUNT_INFO, ...EVENT_STREAM_CONSUMER, ...EVENT_STREAM_MESSAGES, ...WEBHOOK_DELIVERY],
    subscribe: [...CATALOG_VIEW.subscribe, Subjects.webhooksChanged, Subjects.webhookTest],
    // It answers `beacon.webhooks.test`.
    answersRequests: true,
  },
  [READER_IDENTITY]: {
    // Subscribe only: no request of any kind (see EVENT_STREAM_MESSAGES).
    publish: [],
    subscribe: ['beacon.events.>'],
    answersRequests: false,
  },
};

/** An identity's permissions, its own reply inbox included. */
export function natsPermissions(identity: NatsIdentity): NatsPermissions {
  const declared = DECLARED[identity];
  return {
    publish: [...new Set(declared.publish)],
    subscribe: [...new Set([...declared.subscribe, `${inboxPrefix(identity)}.>`])],
    answersRequests: declared.answersRequests,
  };
}
