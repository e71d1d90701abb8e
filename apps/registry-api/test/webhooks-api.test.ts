import {
  Subjects,
  WIRE_VERSION,
  type Webhook,
  type WebhookDelivery,
  type WebhookDeliveryList,
  type WebhookDeliveryMessage,
  type WebhookList,
  type WebhooksReply,
} from '@beacon/contracts';
import { fetchJson, publishJson, requestJson, startRegistry, waitFor, type JsonResponse, type RegistryFixture } from '@beacon/testing';
import Database from 'better-sqlite3';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The webhooks API on a real registry-api process over a real nats-server and SQLite file:
 * CRUD, every refusal naming its field, secrets never shown, masked URLs, the deliverers'
 * side on NATS (the full list, change notices, delivery reports into a bounded log), the
 * test route without a deliverer, and everything still there after a restart.
 */

const TOKEN = 'webhooks-test-token-0123456789';
const SECRET = 'whsec-do-not-show-7f3a9c21e8';
const LOG_BOUND = 5;
const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

let registry: RegistryFixture;
let nats: NatsConnection;
const changes: string[] = [];

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<JsonResponse<T>> =>
  fetchJson<T>(method, `${registry.base}/webhooks${path}`, body, method === 'GET' ? {} : auth);

const create = async (body: Record<string, unknown>): Promise<Webhook> => {
  const response = await api<Webhook>('POST', '', body);
  expect(response.status, response.text).toBe(201);
  return response.body;
};

const targets = async (): Promise<WebhooksReply['webhooks']> =>
  (await requestJson<WebhooksReply>(nats, Subjects.registryWebhooks, {})).webhooks;

function delivery(webhookId: string, n: number, extra: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    delivery_id: `event-${n}:${webhookId}`,
    webhook_id: webhookId,
    event_type: 'incident_opened',
    status: 'delivered',
    attempts: 1,
    status_code: 200,
    last_error: null,
    latency_ms: 12.5,
    event_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    updated_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    ...extra,
  };
}

const report = (entry: WebhookDelivery): void =>
  publishJson(nats, Subjects.webhookDelivery, { v: WIRE_VERSION, delivery: entry } satisfies WebhookDeliveryMessage);

const deliveries = async (webhookId: string, query = ''): Promise<WebhookDelivery[]> => {
  const response = await api<WebhookDeliveryList>('GET', `/${webhookId}/deliveries${query}`);
  expect(response.status, response.text).toBe(200);
  return response.body.deliveries;
};

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${registry.api.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

beforeAll(async () => {
  registry = await startRegistry({ env: { BEACON_AUTH_TOKEN: TOKEN, BEACON_WEBHOOK_LOG_PER_WEBHOOK: String(LOG_BOUND) } });
  nats = await connect({ servers: registry.nats.url });
  nats.subscribe(Subjects.webhooksChanged, {
    callback: (_error, message) => changes.push((JSON.parse(new TextDecoder().decode(message.data)) as { webhook_id: string }).webhook_id),
  });
  await nats.flush();
}, 60_000);

afterAll(async () => {
  await nats?.close();
  await registry?.dispose();
});

describe('webhooks CRUD', () => {
  it('creates (201), reads, lists, replaces and deletes a webhook, announcing each change on NATS', async () => {
    const created = await create({
      url: 'https://hooks.example.com/beacon',
      events: ['incident_opened', 'incident_resolved', 'incident_opened'],
      secret: SECRET,
      tags: ['prod', 'web'],
      type: 'http',
      description: 'on-call',
    });
    expect(created).toMatchObject({
      url: 'https://hooks.example.com/beacon',
      events: ['incident_opened', 'incident_resolved'],
      format: 'generic',
      service_id: null,
      type: 'http',
      tags: ['prod', 'web'],
      description: 'on-call',
      has_secret: true,
      enabled: true,
    });
    expect(created.webhook_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created).not.toHaveProperty('secret');

    expect((await api<Webhook>('GET', `/${created.webhook_id}`)).body).toEqual(created);
    const list = (await api<WebhookList>('GET', '?limit=100')).body;
    expect(list.webhooks.map((webhook) => webhook.webhook_id)).toContain(created.webhook_id);
    expect(list).toMatchObject({ limit: 100, skip: 0 });

    const replaced = await api<Webhook>('PUT', `/${created.webhook_id}`, {
      url: 'https://hooks.example.com/beacon',
      events: ['*'],
      format: 'ntfy',
      enabled: false,
    });
    expect(replaced.status, replaced.text).toBe(200);
    // A whole definition: fields left out take their defaults, except the secret, which is kept.
    expect(replaced.body).toMatchObject({ events: ['*'], format: 'ntfy', enabled: false, tags: [], description: null, has_secret: true });
    expect(replaced.body.created_at).toBe(created.created_at);

    expect((await api('DELETE', `/${created.webhook_id}`)).status).toBe(204);
    expect((await api('GET', `/${created.webhook_id}`)).status).toBe(404);
    expect((await api('DELETE', `/${created.webhook_id}`)).status).toBe(404);
    const missing = await api('PUT', `/${created.webhook_id}`, { url: 'https://hooks.example.com/x', events: ['*'] });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toBe(`Webhook ${created.webhook_id} not found`);

    await waitFor('three change notices', () => changes.filter((id) => id === created.webhook_id).length >= 3);
  });

  it('needs the token for every mutation, a test included; reads are open', async () => {
    const webhook = await create({ url: 'https://hooks.example.com/auth', events: ['*'] });
    const anonymous = (method: string, path: string, body?: unknown) => fetchJson(method, `${registry.base}/webhooks${path}`, body);
    expect((await anonymous('POST', '', { url: 'https://hooks.example.com/a', events: ['*'] })).status).toBe(401);
    expect((await anonymous('PUT', `/${webhook.webhook_id}`, { url: 'https://hooks.example.com/a', events: ['*'] })).status).toBe(401);
    expect((await anonymous('DELETE', `/${webhook.webhook_id}`)).status).toBe(401);
    expect((await anonymous('POST', `/${webhook.webhook_id}/test`)).status).toBe(401);
    expect((await anonymous('GET', `/${webhook.webhook_id}`)).status).toBe(200);
  });
});

describe('bad input: a 4xx naming the field, and nothing stored', () => {
  const valid = { url: 'https://hooks.example.com/ok', events: ['incident_opened'] };
  const cases: [name: string, field: string, body: Record<string, unknown>, message: RegExp][] = [
    [
      'a cloud metadata address',
      'url',
      { ...valid, url: 'http://169.254.169.254/latest' },
      /169\.254\.169\.254 is in denied range 169\.254\.0\.0\/16 \(PROBE_DENY_CIDRS\)/,
    ],
    ['the unspecified address', 'url', { ...valid, url: 'http://0.0.0.0:9/' }, /unspecified address .* always refused/],
    ['the metadata address spelled as a number', 'url', { ...valid, url: 'http://2852039166/' }, /denied range 169\.254\.0\.0\/16/],
    ['an ftp URL', 'url', { ...valid, url: 'ftp://files.example.com/drop' }, /must use http or https, not ftp/],
    ['not a URL', 'url', { ...valid, url: 'hooks.example.com' }, /is not an absolute URL/],
    ['a URL over 2048 characters', 'url', { ...valid, url: `https://hooks.example.com/${'a'.repeat(2048)}` }, /2048/],
    [
      'an unknown event',
      'events[1]',
      { ...valid, events: ['incident_opened', 'service_exploded'] },
      /"service_exploded" is not an event; known: incident_opened, /,
    ],
    ['no events', 'events', { ...valid, events: [] }, /at least one/],
    ['events missing', 'events', { url: valid.url }, /.+/],
    ['an unknown format', 'format', { ...valid, format: 'teams' }, /must be one of generic, slack, discord, ntfy, gotify/],
    ['a short secret', 'secret', { ...valid, secret: 'short' }, /16/],
    ['a service_id that is no id', 'service_id', { ...valid, service_id: 'web-1' }, /UUID/],
    ['a long description', 'description', { ...valid, description: 'd'.repeat(201) }, /200/],
    ['a tag with a comma', 'tags', { ...valid, tags: ['a,b'] }, /commas/],
    ['an unknown field', 'colour', { ...valid, colour: 'red' }, /is not an accepted field/],
  ];

  it.each(cases)('%s → 400 naming %s', async (_name, field, body, message) => {
    const before = (await api<WebhookList>('GET', '')).body.total;
    const response = await api<{ detail: string; errors: { field: string; message: string }[] }>('POST', '', body);
    expect(response.status, response.text).toBe(400);
    const error = response.body.errors.find((entry) => entry.field === field);
    expect(error, response.text).toBeDefined();
    expect(error?.message).toMatch(message);
    expect(response.body.detail).toContain(`${field}: `);
    expect((await api<WebhookList>('GET', '')).body.total).toBe(before);
  });

  it('a PUT is held to the same rules and leaves the webhook as it was', async () => {
    const webhook = await create(valid);
    const response = await api('PUT', `/${webhook.webhook_id}`, { ...valid, url: 'http://[::ffff:169.254.169.254]/' });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/^Invalid body: url: is refused: /);
    expect((await api<Webhook>('GET', `/${webhook.webhook_id}`)).body).toEqual(webhook);
  });

  it('a body over 16 KiB → 413 naming the limit', async () => {
    const response = await api('POST', '', { ...valid, description: 'x'.repeat(17 * 1024) });
    expect(response.status).toBe(413);
    expect(response.body.detail).toBe('Webhook body is larger than 16384 bytes');
  });
});

describe('secrets and masked URLs', () => {
  it('never returns the secret (POST, GET, list, PUT) nor logs it; PUT keeps it unless told null', async () => {
    const created = await api<Webhook>('POST', '', { url: 'https://hooks.example.com/s', events: ['*'], secret: SECRET });
    const id = created.body.webhook_id;
    const put = await api<Webhook>('PUT', `/${id}`, { url: 'https://hooks.example.com/s2', events: ['*'] });
    const texts = [created.text, (await api('GET', `/${id}`)).text, (await api('GET', '?limit=100')).text, put.text];
    for (const text of texts) expect(text).not.toContain(SECRET);
    expect(put.body.has_secret).toBe(true);
    expect((await targets()).find((target) => target.webhook_id === id)?.secret).toBe(SECRET);

    const cleared = await api<Webhook>('PUT', `/${id}`, { url: 'https://hooks.example.com/s2', events: ['*'], secret: null });
    expect(cleared.body.has_secret).toBe(false);
    expect((await targets()).find((target) => target.webhook_id === id)?.secret).toBeNull();
    expect(registry.api.output()).not.toContain(SECRET);
  });

  it('masks user info, query values and the Slack/Discord token; the deliverers get them whole; a PUT of the masked URL keeps it', async () => {
    const cases: [format: string, url: string, shown: string][] = [
      [
        'generic',
        'https://beacon:pa55word@hooks.example.com/in?token=abc123&x=1',
        'https://beacon:***@hooks.example.com/in?token=***&x=***',
      ],
      ['gotify', 'http://192.168.1.20:8080/message?token=AbCdEf', 'http://192.168.1.20:8080/message?token=***'],
      [
        'slack',
        'https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX',
        'https://hooks.slack.com/services/T0001/B0001/***',
      ],
      ['discord', 'https://discord.com/api/webhooks/123456/tOkEn-SeCrEt', 'https://discord.com/api/webhooks/123456/***'],
      ['ntfy', 'https://ntfy.sh/beacon-alerts', 'https://ntfy.sh/beacon-alerts'],
    ];
    for (const [format, url, shown] of cases) {
      const webhook = await create({ url, format, events: ['*'] });
      expect(webhook.url, format).toBe(shown);
      expect((await api<Webhook>('GET', `/${webhook.webhook_id}`)).body.url).toBe(shown);
      const put = await api<Webhook>('PUT', `/${webhook.webhook_id}`, { url: shown, format, events: ['incident_opened'] });
      expect(put.status, put.text).toBe(200);
      expect(put.body.url).toBe(shown);
      const target = (await targets()).find((entry) => entry.webhook_id === webhook.webhook_id);
      expect(target?.url, format).toBe(url);
      expect(target?.events).toEqual(['incident_opened']);
    }
  });
});

describe('the deliverers’ side on NATS', () => {
  it('answers beacon.registry.webhooks with every webhook, URL and secret in full', async () => {
    const webhook = await create({
      url: 'https://hooks.example.com/n?token=t0k',
      events: ['service_expired'],
      secret: SECRET,
      tags: ['db'],
    });
    const target = (await targets()).find((entry) => entry.webhook_id === webhook.webhook_id);
    expect(target).toMatchObject({
      url: 'https://hooks.example.com/n?token=t0k',
      secret: SECRET,
      events: ['service_expired'],
      tags: ['db'],
      format: 'generic',
      enabled: true,
    });
    expect(target).not.toHaveProperty('has_secret');
  });

  it('keeps the newest deliveries per webhook from reports, a later attempt replacing its row; a bad report is counted and skipped', async () => {
    const webhook = await create({ url: 'https://hooks.example.com/log', events: ['*'] });
    const other = await create({ url: 'https://hooks.example.com/log2', events: ['*'] });
    for (let n = 1; n <= 8; n += 1) report(delivery(webhook.webhook_id, n));
    report(delivery(other.webhook_id, 1, { status: 'failed', status_code: 410, last_error: 'receiver refused it (410)' }));
    await waitFor(
      'the log to hold the newest reports',
      async () => (await deliveries(webhook.webhook_id))[0]?.delivery_id === `event-8:${webhook.webhook_id}`,
    );
    const log = await deliveries(webhook.webhook_id);
    expect(log.map((entry) => entry.delivery_id)).toEqual([8, 7, 6, 5, 4].map((n) => `event-${n}:${webhook.webhook_id}`));
    expect(log[0]).toEqual(delivery(webhook.webhook_id, 8));
    expect((await deliveries(other.webhook_id)).map((entry) => entry.status)).toEqual(['failed']);

    // A retry of event 6 reports again: its row is replaced (and, being newest, comes first).
    report(delivery(webhook.webhook_id, 6, { status: 'retrying', attempts: 3, status_code: 503, updated_at: '2026-01-01T00:01:00.000Z' }));
    // An out-of-date report of an earlier attempt does not overwrite the later one.
    report(delivery(webhook.webhook_id, 6, { status: 'retrying', attempts: 2, updated_at: '2026-01-01T00:00:30.000Z' }));
    // Malformed: not JSON, no delivery, a bad status. Counted, skipped; the next good one is applied.
    nats.publish(Subjects.webhookDelivery, new TextEncoder().encode('{not json'));
    publishJson(nats, Subjects.webhookDelivery, { v: WIRE_VERSION });
    publishJson(nats, Subjects.webhookDelivery, { v: WIRE_VERSION, delivery: { ...delivery(webhook.webhook_id, 99), status: 'exploded' } });
    report(delivery(webhook.webhook_id, 9, { updated_at: '2026-01-01T00:02:00.000Z' }));
    await waitFor(
      'the good report after the bad ones',
      async () => (await deliveries(webhook.webhook_id))[0]?.delivery_id === `event-9:${webhook.webhook_id}`,
    );
    const after = await deliveries(webhook.webhook_id);
    expect(after).toHaveLength(LOG_BOUND);
    expect(after[1]).toMatchObject({ delivery_id: `event-6:${webhook.webhook_id}`, attempts: 3, status: 'retrying', status_code: 503 });
    expect(after.map((entry) => entry.delivery_id)).not.toContain(`event-99:${webhook.webhook_id}`);
    expect(await metric('beacon_nats_messages_dropped_total', { subject: Subjects.webhookDelivery })).toBe(3);

    expect((await deliveries(webhook.webhook_id, '?status=retrying&limit=10')).map((entry) => entry.attempts)).toEqual([3]);
    expect((await deliveries(webhook.webhook_id, '?limit=2')).length).toBe(2);
    expect((await api('GET', `/${webhook.webhook_id}/deliveries?status=lost`)).status).toBe(400);
    expect((await api('GET', `/${webhook.webhook_id}/deliveries?limit=0`)).status).toBe(400);
    expect((await api('GET', '/00000000-0000-4000-8000-000000000000/deliveries')).status).toBe(404);
  });

  it('the test route: 503 saying to start realtime-gateway when no deliverer answers; the deliverer’s outcome when one does', async () => {
    const webhook = await create({ url: 'https://hooks.example.com/t', events: ['*'] });
    const none = await api('POST', `/${webhook.webhook_id}/test`);
    expect(none.status).toBe(503);
    expect(none.body.detail).toMatch(/start realtime-gateway/);
    expect((await api('POST', '/00000000-0000-4000-8000-000000000000/test')).status).toBe(404);

    // A stand-in deliverer on the real subject (realtime-gateway's part is tested with the gateway).
    const sample = delivery(webhook.webhook_id, 1, { delivery_id: `test:${webhook.webhook_id}`, event_type: 'test', latency_ms: 3 });
    const responder = nats.subscribe(Subjects.webhookTest, {
      max: 1,
      callback: (_error, message) => {
        const asked = JSON.parse(new TextDecoder().decode(message.data)) as { webhook_id: string };
        message.respond(
          new TextEncoder().encode(JSON.stringify({ v: WIRE_VERSION, delivery: { ...sample, webhook_id: asked.webhook_id } })),
        );
      },
    });
    await nats.flush();
    const answered = await api<WebhookDelivery>('POST', `/${webhook.webhook_id}/test`);
    expect(answered.status, answered.text).toBe(200);
    expect(answered.body).toEqual(sample);
    responder.unsubscribe();
  });
});

describe('the deliverers’ list stays one NATS message', () => {
  it('refuses (429) a webhook that would push the full list past 768 KiB, and the list still arrives', async () => {
    // As large as a webhook may be: a 2 KiB URL, 64 tags of 100 characters, a 256-character secret, 200 of description.
    const big = (n: number) => ({
      url: `https://hooks.example.com/${String(n).padStart(4, '0')}/${'u'.repeat(2000)}`,
      events: ['*'],
      tags: Array.from({ length: 64 }, (_, tag) => `${String(tag).padStart(3, '0')}${'t'.repeat(97)}`),
      secret: 's'.repeat(256),
      description: 'd'.repeat(200),
    });
    const created: string[] = [];
    let refused: JsonResponse<Record<string, unknown>> | null = null;
    for (let n = 0; n < 200 && !refused; n += 1) {
      const response = await api<Webhook>('POST', '', big(n));
      if (response.status === 201) created.push(response.body.webhook_id);
      else refused = response as unknown as JsonResponse<Record<string, unknown>>;
    }
    expect(refused?.status).toBe(429);
    expect(refused?.body.detail).toMatch(/^The webhooks together would take more than 786432 bytes in the list realtime-gateway reads/);
    expect(created.length).toBeGreaterThan(50);
    const list = await requestJson<WebhooksReply>(nats, Subjects.registryWebhooks, {});
    expect(list.webhooks.filter((entry) => created.includes(entry.webhook_id))).toHaveLength(created.length);
    for (const id of created) expect((await api('DELETE', `/${id}`)).status).toBe(204);
  }, 60_000);
});

describe('a restart', () => {
  it('keeps webhooks, secrets and logs in the SQLite file; deleting a webhook deletes its log', async () => {
    const kept = await create({
      url: 'https://hooks.example.com/kept',
      events: ['health_status_changed'],
      secret: SECRET,
      service_id: '2f1b7a52-1c1e-4b8e-9a53-0e6c7b0f6d11',
    });
    const dropped = await create({ url: 'https://hooks.example.com/dropped', events: ['*'] });
    report(delivery(kept.webhook_id, 1));
    report(delivery(dropped.webhook_id, 1));
    await waitFor(
      'both reports logged',
      async () => (await deliveries(kept.webhook_id)).length === 1 && (await deliveries(dropped.webhook_id)).length === 1,
    );
    expect((await api('DELETE', `/${dropped.webhook_id}`)).status).toBe(204);
    // A late report for the deleted webhook must not bring its log back.
    report(delivery(dropped.webhook_id, 2));
    report(delivery(kept.webhook_id, 2));
    await waitFor('the later report applied', async () => (await deliveries(kept.webhook_id)).length === 2);
    // A report that arrives just before a stop is written on the way down (reports wait up to 100 ms to be batched).
    report(delivery(kept.webhook_id, 3));
    await nats.flush();

    await registry.api.stop('SIGTERM');
    const db = new Database(registry.dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?').get(dropped.webhook_id) as { n: number };
      expect(rows.n).toBe(0);
    } finally {
      db.close();
    }
    await registry.restart({ BEACON_AUTH_TOKEN: TOKEN, BEACON_WEBHOOK_LOG_PER_WEBHOOK: String(LOG_BOUND) });

    expect((await api<Webhook>('GET', `/${kept.webhook_id}`)).body).toEqual(kept);
    expect((await deliveries(kept.webhook_id)).map((entry) => entry.delivery_id)).toEqual(
      [3, 2, 1].map((n) => `event-${n}:${kept.webhook_id}`),
    );
    expect((await api('GET', `/${dropped.webhook_id}`)).status).toBe(404);
    // BEACON_MAX_WEBHOOKS: at the cap, a new webhook gets 429 and nothing is stored.
    const total = (await api<WebhookList>('GET', '')).body.total;
    await registry.api.stop('SIGTERM');
    await registry.restart({ BEACON_MAX_WEBHOOKS: String(total) });
    const full = await api('POST', '', { url: 'https://hooks.example.com/one-too-many', events: ['*'] });
    expect(full.status).toBe(429);
    expect(full.body.detail).toBe(`There are ${total} webhooks already (BEACON_MAX_WEBHOOKS): delete one before creating another`);
    expect((await api<WebhookList>('GET', '')).body.total).toBe(total);
    await waitFor('the restarted process to answer on NATS', async () =>
      (await targets().catch(() => [])).some((entry) => entry.webhook_id === kept.webhook_id && entry.secret === SECRET),
    );
  }, 60_000);
});
