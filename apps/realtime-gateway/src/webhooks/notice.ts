/**
 * What a notifier shows of an event: a one-line title, a sentence, how bad it is, and a few
 * labelled facts. Slack, Discord, ntfy and Gotify bodies are all rendered from this; the
 * generic format carries the live message itself instead.
 */
export interface Notice {
  title: string;
  text: string;
  severity: 'critical' | 'warning' | 'ok' | 'info';
  fields: { name: string; value: string }[];
  timestamp: string;
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (fields: Fields, key: string): string | null => (typeof fields[key] === 'string' ? fields[key] : null);
const number = (fields: Fields, key: string): number | null =>
  typeof fields[key] === 'number' && Number.isFinite(fields[key]) ? fields[key] : null;

/** `4m 12s`, `2h 5m`, `3d 4h`: the two largest units. */
export function humanDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const units: [string, number][] = [
    ['d', Math.floor(total / 86_400)],
    ['h', Math.floor((total % 86_400) / 3600)],
    ['m', Math.floor((total % 3600) / 60)],
    ['s', total % 60],
  ];
  const first = units.findIndex(([, value]) => value > 0);
  if (first === -1) return '0s';
  return units
    .slice(first, first + 2)
    .filter(([, value]) => value > 0)
    .map(([unit, value]) => `${value}${unit}`)
    .join(' ');
}

const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The notice for a live message (`type`, `data`, `timestamp`), or for a webhook test (`test`). */
export function noticeOf(type: string, data: unknown, timestamp: string): Notice {
  const fields = isObject(data) ? data : {};
  const service = isObject(fields.service) ? fields.service : fields;
  const name = text(fields, 'service_name') ?? text(service, 'name') ?? 'a service';
  const facts = (entries: [string, string | null][]): Notice['fields'] =>
    entries.filter((entry): entry is [string, string] => entry[1] !== null && entry[1] !== '').map(([n, value]) => ({ name: n, value }));
  const where = (): string | null => {
    const host = text(service, 'host');
    const port = number(service, 'port');
    return host ? (port !== null ? `${host}:${port}` : host) : null;
  };
  const base = (severity: Notice['severity'], title: string, sentence: string, extra: [string, string | null][] = []): Notice => ({
    title,
    text: sentence,
    severity,
    fields: facts([['Service', name], ['Type', text(service, 'type') ?? text(fields, 'service_type')], ...extra]),
    timestamp,
  });

  switch (type) {
    case 'incident_opened': {
      const kind = text(fields, 'kind');
      const cause = text(fields, 'cause');
      const failed = number(fields, 'failed_checks') ?? 0;
      const detail =
        kind === 'expired'
          ? `${name} stopped sending heartbeats (TTL lapsed)`
          : kind === 'critical_load'
            ? `${name} is at critical load${cause ? ` — ${cause}` : ''}`
            : `${name} is down${cause ? ` — ${cause}` : ''}${failed > 0 ? ` (${plural(failed, 'failed check')})` : ''}`;
      return base('critical', `${name} is down`, `🔴 ${detail}`, [
        ['Kind', kind],
        ['Cause', cause],
        ['Started', text(fields, 'started_at')],
      ]);
    }
    case 'incident_reminder': {
      const since = humanDuration(number(fields, 'duration_seconds') ?? 0);
      const reminders = number(fields, 'reminders');
      return base(
        'critical',
        `${name} is still down`,
        `⏳ ${name} still down after ${since}${reminders !== null ? ` (reminder ${reminders})` : ''}`,
        [
          ['Kind', text(fields, 'kind')],
          ['Cause', text(fields, 'cause')],
        ],
      );
    }
    case 'incident_resolved': {
      const after = humanDuration(number(fields, 'duration_seconds') ?? 0);
      const manual = text(fields, 'resolved_by') === 'manual';
      const note = text(fields, 'note');
      return base(
        'ok',
        `${name} recovered`,
        manual
          ? `✅ ${name}'s incident was resolved by hand after ${after}${note ? `: ${note}` : ''}`
          : `✅ ${name} recovered after ${after}`,
        [
          ['Kind', text(fields, 'kind')],
          ['Down for', after],
        ],
      );
    }
    case 'incident_acknowledged': {
      const note = text(fields, 'note');
      return base('warning', `${name}: incident acknowledged`, `👀 ${name}'s incident was acknowledged${note ? `: ${note}` : ''}`, [
        ['Kind', text(fields, 'kind')],
      ]);
    }
    case 'service_registered':
      return base('info', `${name} registered`, `🆕 ${name} registered${where() ? ` at ${where()}` : ''}`, [['Address', where()]]);
    case 'service_deregistered':
      return base('info', `${name} deregistered`, `👋 ${name} deregistered${text(fields, 'reason') ? ` (${text(fields, 'reason')})` : ''}`);
    case 'service_expired':
      return base('warning', `${name} expired`, `⌛ ${name} expired: no heartbeat within its TTL`, [['Address', where()]]);
    case 'health_status_changed': {
      const health = text(service, 'health') ?? 'unknown';
      const previous = text(fields, 'previous_health');
      const severity = health === 'healthy' ? 'ok' : health === 'unhealthy' ? 'critical' : 'warning';
      const icon = severity === 'ok' ? '💚' : severity === 'critical' ? '💔' : '💛';
      return base(severity, `${name} is ${health}`, `${icon} ${name} is ${health}${previous ? ` (was ${previous})` : ''}`, [
        ['Health', health],
        ['Address', where()],
      ]);
    }
    case 'critical_load': {
      const load = number(fields, 'load');
      const threshold = number(fields, 'threshold');
      return base(
        'critical',
        `${name} at critical load`,
        `🔥 ${name} is at critical load${load !== null ? ` ${percent(load)}` : ''}${threshold !== null ? ` (threshold ${percent(threshold)})` : ''}`,
      );
    }
    case 'test':
      return {
        title: 'Beacon test notification',
        text: '🔔 Test notification from Beacon: this webhook works',
        severity: 'info',
        fields: [],
        timestamp,
      };
    default:
      return base('info', `${name}: ${type}`, `${name}: ${type}`);
  }
}
