import type { WebhookTarget } from '@beacon/contracts';
import { verifyBeaconSignature } from '@beacon/testing';
import { describe, expect, it } from 'vitest';
import { humanDuration, noticeOf } from './notice';
import { nextRetry } from './retry-policy';
import { DISCORD_LIMITS, headerText, renderDelivery, type DeliveryInput } from './webhook-formats';
import { wants } from './webhook-matching';

const service = {
  service_id: 'svc-1',
  name: 'api-gateway',
  type: 'http',
  host: '10.0.0.5',
  port: 8080,
  tags: ['prod', 'edge'],
};
const incident = {
  incident_id: 'inc-1',
  service_id: 'svc-1',
  service_name: 'api-gateway',
  service_type: 'http',
  kind: 'down',
  cause: 'connect ECONNREFUSED 127.0.0.1:9',
  failed_checks: 3,
  duration_seconds: 252,
  reminders: 2,
  resolved_by: 'auto',
  note: null,
  service,
};

/** What the tests read of the rendered bodies (each field is checked below, not trusted). */
interface Bodies {
  text: string;
  blocks: { type: string }[];
  embeds: { title: string; description: string; fields: { name: string; value: string }[] }[];
  allowed_mentions: unknown;
  message: unknown;
  priority: unknown;
}
const parse = (body: string): Bodies => JSON.parse(body) as Bodies;

const input = (overrides: Partial<DeliveryInput> = {}): DeliveryInput => ({
  format: 'generic',
  secret: null,
  webhookId: 'wh-1',
  eventId: '42',
  deliveryId: '42:wh-1',
  type: 'incident_opened',
  data: incident,
  timestamp: '2026-12-07T10:00:00.000Z',
  ...overrides,
});

describe('webhook bodies', () => {
  it('generic: Beacon JSON, signed so a receiver can verify it, and a changed body fails', () => {
    const now = Date.now();
    const { headers, body } = renderDelivery(input({ secret: 'shh' }), now);
    expect(parse(body)).toMatchObject({ v: 1, type: 'incident_opened', event_id: '42', webhook_id: 'wh-1', data: { kind: 'down' } });
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-beacon-event']).toBe('incident_opened');
    expect(headers['x-beacon-delivery']).toBe('42:wh-1');
    expect(verifyBeaconSignature('shh', headers['x-beacon-signature'], body, { now })).toBe(true);
    expect(verifyBeaconSignature('shh', headers['x-beacon-signature'], body.replace('down', 'up!!'), { now })).toBe(false);
    expect(verifyBeaconSignature('other', headers['x-beacon-signature'], body, { now })).toBe(false);
    // Replayed ten minutes later: refused by the tolerance.
    expect(verifyBeaconSignature('shh', headers['x-beacon-signature'], body, { now: now + 600_000 })).toBe(false);
    expect(renderDelivery(input(), now).headers['x-beacon-signature']).toBeUndefined();
  });

  it('the human text says what happened', () => {
    expect(noticeOf('incident_opened', incident, '').text).toBe(
      '🔴 api-gateway is down — connect ECONNREFUSED 127.0.0.1:9 (3 failed checks)',
    );
    expect(noticeOf('incident_resolved', incident, '').text).toBe('✅ api-gateway recovered after 4m 12s');
    expect(noticeOf('incident_reminder', incident, '').text).toBe('⏳ api-gateway still down after 4m 12s (reminder 2)');
    expect(humanDuration(93_784)).toBe('1d 2h');
  });

  it('slack: JSON with a non-empty text, control characters escaped', () => {
    const body = parse(
      renderDelivery(input({ format: 'slack', data: { ...service, name: '<b>&co' }, type: 'service_registered' }), 0).body,
    );
    expect(typeof body.text).toBe('string');
    expect(body.text).toContain('&lt;b&gt;&amp;co');
    expect(body.blocks[0]?.type).toBe('section');
  });

  it('discord: one embed within every documented limit, however long the input', () => {
    const long = 'x'.repeat(10_000);
    const data = { ...incident, service_name: long, cause: long, service: { ...service, name: long, type: long } };
    const body = parse(renderDelivery(input({ format: 'discord', data }), 0).body);
    const embed = body.embeds[0];
    if (!embed) throw new Error('no embed');
    expect(Array.from(embed.title).length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
    expect(Array.from(embed.description).length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
    expect(embed.fields.length).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
    let total = Array.from(embed.title).length + Array.from(embed.description).length;
    for (const field of embed.fields) {
      expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
      total += field.name.length + field.value.length;
    }
    expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.total);
    expect(body.allowed_mentions).toEqual({ parse: [] });
  });

  it('ntfy: plain text with Title, Priority and Tags headers; non-ASCII titles encoded', () => {
    const { headers, body } = renderDelivery(input({ format: 'ntfy' }), 0);
    expect(headers['content-type']).toMatch(/^text\/plain/);
    expect(body).toContain('api-gateway is down');
    expect(headers.priority).toBe('5');
    expect(headers.tags).toBe('rotating_light');
    expect(headers.title).toBe('api-gateway is down');
    expect(headerText('café ☕')).toBe(`=?UTF-8?B?${Buffer.from('café ☕').toString('base64')}?=`);
  });

  it('gotify: title, message and an integer priority', () => {
    const body = parse(renderDelivery(input({ format: 'gotify', type: 'incident_resolved' }), 0).body);
    expect(body).toMatchObject({ title: 'api-gateway recovered' });
    expect(typeof body.message).toBe('string');
    expect(Number.isInteger(body.priority)).toBe(true);
  });
});

describe('retries', () => {
  const policy = { maxDelayMs: 3_600_000, retryForMs: 86_400_000 };
  it('back off from 1 s, doubling, up to the maximum', () => {
    expect([1, 2, 3, 4].map((attempt) => nextRetry(policy, attempt, 0, 0, null))).toEqual(
      [1000, 2000, 4000, 8000].map((delayMs) => ({ retry: true, delayMs })),
    );
    expect(nextRetry(policy, 40, 0, 0, null)).toEqual({ retry: true, delayMs: 3_600_000 });
  });
  it('honour a sane Retry-After, ignore an absurd one, and stop at the horizon', () => {
    expect(nextRetry(policy, 1, 0, 0, 30_000)).toEqual({ retry: true, delayMs: 30_000 });
    expect(nextRetry(policy, 1, 0, 0, 10 * 3_600_000)).toEqual({ retry: true, delayMs: 1000 });
    expect(nextRetry(policy, 20, 0, 86_399_000, null)).toEqual({ retry: true, delayMs: 1000 });
    expect(nextRetry(policy, 20, 0, 86_400_000, null).retry).toBe(false);
  });
});

describe('which webhooks get an event', () => {
  const webhook = (overrides: Partial<WebhookTarget> = {}): WebhookTarget => ({
    webhook_id: 'w',
    url: 'http://x',
    events: ['*'],
    format: 'generic',
    service_id: null,
    type: null,
    tags: [],
    description: null,
    enabled: true,
    created_at: '',
    updated_at: '',
    secret: null,
    ...overrides,
  });
  const record = service as unknown as Parameters<typeof wants>[2];
  it('by type, `*`, reminders as incident_opened, and never when disabled', () => {
    expect(wants(webhook(), 'service_registered', record)).toBe(true);
    expect(wants(webhook(), 'service_updated', record)).toBe(false);
    expect(wants(webhook({ events: ['incident_opened'] }), 'incident_reminder', record)).toBe(true);
    expect(wants(webhook({ events: ['incident_resolved'] }), 'incident_opened', record)).toBe(false);
    expect(wants(webhook({ enabled: false }), 'service_registered', record)).toBe(false);
  });
  it('filters: service, type and all of the tags', () => {
    expect(wants(webhook({ service_id: 'svc-1', type: 'http', tags: ['prod'] }), 'service_registered', record)).toBe(true);
    expect(wants(webhook({ tags: ['prod', 'db'] }), 'service_registered', record)).toBe(false);
    expect(wants(webhook({ service_id: 'other' }), 'service_registered', record)).toBe(false);
    expect(wants(webhook({ type: 'tcp' }), 'service_registered', record)).toBe(false);
    expect(wants(webhook({ tags: ['prod'] }), 'incident_opened', null)).toBe(false);
  });
});
