import type { WebhookFormat } from '@beacon/contracts';
import { createHmac } from 'node:crypto';
import { noticeOf, type Notice } from './notice';

/** One webhook POST, ready to send. */
export interface RenderedRequest {
  headers: Record<string, string>;
  body: string;
}

/** What a delivery renders: the event as the live feed sends it, and who it goes to. */
export interface DeliveryInput {
  format: WebhookFormat;
  secret: string | null;
  webhookId: string;
  eventId: string;
  deliveryId: string;
  /** The live type (`incident_opened`, ...) or `test`. */
  type: string;
  /** The live message's `data`. */
  data: unknown;
  /** When the event happened (ISO). */
  timestamp: string;
}

/** Beacon's signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = 'x-beacon-signature';

export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Cuts `value` to at most `max` characters (code points, never half a surrogate pair), marking the cut. */
export function clip(value: string, max: number): string {
  const points = Array.from(value);
  return points.length <= max ? value : `${points.slice(0, max - 1).join('')}…`;
}

const length = (value: string): number => Array.from(value).length;

/** Renders one delivery's request in its webhook's format; `now` signs it. */
export function renderDelivery(input: DeliveryInput, now: number): RenderedRequest {
  const headers = { 'x-beacon-event': input.type, 'x-beacon-delivery': input.deliveryId };
  if (input.format === 'generic') return renderGeneric(input, headers, now);
  const notice = noticeOf(input.type, input.data, input.timestamp);
  switch (input.format) {
    case 'slack':
      return json(headers, slackBody(notice));
    case 'discord':
      return json(headers, discordBody(notice));
    case 'ntfy':
      return ntfyRequest(notice, headers);
    case 'gotify':
      return json(headers, gotifyBody(notice));
  }
}

function json(headers: Record<string, string>, document: unknown): RenderedRequest {
  return { headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(document) };
}

/** Beacon's own JSON: the live message's data, versioned, and signed when the webhook has a secret. */
function renderGeneric(input: DeliveryInput, headers: Record<string, string>, now: number): RenderedRequest {
  const body = JSON.stringify({
    v: 1,
    type: input.type,
    event_id: input.eventId,
    webhook_id: input.webhookId,
    timestamp: input.timestamp,
    data: input.data,
  });
  const signed: Record<string, string> = { ...headers, 'content-type': 'application/json' };
  if (input.secret) signed[SIGNATURE_HEADER] = signature(input.secret, body, Math.floor(now / 1000));
  return { headers: signed, body };
}

/** Slack mrkdwn treats these three as control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
const slackEscape = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Slack incoming webhook (https://api.slack.com/messaging/webhooks): `text` is the message
 * and the notification's fallback; `blocks` lay it out. A section's text is at most 3,000
 * characters, its fields at most 10 of 2,000 (https://api.slack.com/reference/block-kit/blocks#section).
 */
function slackBody(notice: Notice): unknown {
  const text = clip(slackEscape(notice.text), 3000);
  const fields = notice.fields.slice(0, 10).map((field) => ({
    type: 'mrkdwn',
    text: clip(`*${slackEscape(field.name)}*\n${slackEscape(field.value)}`, 2000),
  }));
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text }, ...(fields.length > 0 ? { fields } : {}) }],
  };
}

/** Embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const DISCORD_LIMITS = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, total: 6000, content: 2000 };

const DISCORD_COLORS: Record<Notice['severity'], number> = { critical: 0xd93f0b, warning: 0xf5a623, ok: 0x2ea44f, info: 0x3b82f6 };

/**
 * Discord "Execute Webhook" (https://discord.com/developers/docs/resources/webhook#execute-webhook):
 * one embed within the documented limits, mentions disabled so a service name such as
 * `@everyone` pings nobody.
 */
function discordBody(notice: Notice): unknown {
  const title = clip(notice.title, DISCORD_LIMITS.title);
  const description = clip(notice.text, DISCORD_LIMITS.description);
  let budget = DISCORD_LIMITS.total - length(title) - length(description);
  const fields: { name: string; value: string; inline: boolean }[] = [];
  for (const field of notice.fields.slice(0, DISCORD_LIMITS.fields)) {
    const name = clip(field.name, DISCORD_LIMITS.fieldName);
    const value = clip(field.value, DISCORD_LIMITS.fieldValue);
    const cost = length(name) + length(value);
    if (cost > budget) break;
    budget -= cost;
    fields.push({ name, value, inline: true });
  }
  return {
    embeds: [{ title, description, color: DISCORD_COLORS[notice.severity], fields, timestamp: notice.timestamp }],
    allowed_mentions: { parse: [] },
  };
}

const NTFY_PRIORITY: Record<Notice['severity'], string> = { critical: '5', warning: '4', ok: '3', info: '3' };
/** Emoji short codes ntfy turns into icons (https://docs.ntfy.sh/publish/#tags-emojis). */
const NTFY_TAGS: Record<Notice['severity'], string> = {
  critical: 'rotating_light',
  warning: 'warning',
  ok: 'white_check_mark',
  info: 'information_source',
};

/**
 * A header value as HTTP carries it: printable ASCII as is, anything else as an RFC 2047
 * encoded word, which ntfy decodes (https://docs.ntfy.sh/publish/#message-title); Node
 * refuses raw non-Latin-1 header values.
 */
export function headerText(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

/** ntfy publish (https://docs.ntfy.sh/publish/): POST to the topic URL, the message as plain text, the rest in headers. */
function ntfyRequest(notice: Notice, headers: Record<string, string>): RenderedRequest {
  const facts = notice.fields.map((field) => `${field.name}: ${field.value}`).join('\n');
  return {
    headers: {
      ...headers,
      'content-type': 'text/plain; charset=utf-8',
      title: headerText(clip(notice.title, 250)),
      priority: NTFY_PRIORITY[notice.severity],
      tags: NTFY_TAGS[notice.severity],
    },
    body: clip(facts ? `${notice.text}\n\n${facts}` : notice.text, 4000),
  };
}

const GOTIFY_PRIORITY: Record<Notice['severity'], number> = { critical: 8, warning: 5, ok: 4, info: 2 };

/**
 * Gotify's message API (https://gotify.net/docs/pushmsg): `POST <server>/message?token=<app token>`
 * (the URL the user gives, token included) with `title`, `message` and an integer `priority`.
 */
function gotifyBody(notice: Notice): unknown {
  const facts = notice.fields.map((field) => `${field.name}: ${field.value}`).join('\n');
  return { title: notice.title, message: facts ? `${notice.text}\n\n${facts}` : notice.text, priority: GOTIFY_PRIORITY[notice.severity] };
}
