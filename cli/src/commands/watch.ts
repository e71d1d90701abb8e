import type { IncomingMessage } from 'node:http';
import type { Command } from 'commander';
import WebSocket from 'ws';
import { act, checkedUrl, resolveUrl, type Context } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { addFilterFlags, collect, integer, type FilterFlags } from '../options';
import { printable, type Output } from '../output';

interface LiveMessage {
  type: string;
  data?: Record<string, unknown> | null;
  timestamp?: string;
  seq?: number | null;
  message?: string;
}

/** A connection that lived this long was a good one: the next drop retries quickly again. */
const STABLE_MS = 10_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

const COLORS: Record<string, number> = {
  service_registered: 32,
  service_updated: 36,
  service_deregistered: 35,
  service_expired: 31,
  health_status_changed: 33,
  critical_load: 31,
  node_role_changed: 34,
  incident_opened: 31,
  incident_resolved: 32,
  incident_acknowledged: 33,
  incident_reminder: 31,
  service_heartbeat: 2,
};

const env = (name: string): string | undefined => (process.env[name] === '' ? undefined : process.env[name]);

/** `ws://host/api/v1/ws?…` for a base URL and the filters. */
export function liveUrl(base: string, query: Record<string, string | undefined>): string {
  const url = new URL('/api/v1/ws', base.replace(/^http/, 'ws'));
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(key, value);
  return url.toString();
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? printable(String(value)) : undefined;

/**
 * A frame as a live message (fields of the wrong type left out) and the object as sent (what
 * --json prints), or undefined when it is not one (not JSON, not an object with a string `type`).
 */
export function parseMessage(text: string): { message: LiveMessage; sent: Record<string, unknown> } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const message = value as Record<string, unknown>;
  if (typeof message.type !== 'string') return undefined;
  const data = typeof message.data === 'object' && !Array.isArray(message.data) ? (message.data as LiveMessage['data']) : undefined;
  return {
    message: {
      type: message.type,
      data,
      timestamp: typeof message.timestamp === 'string' ? message.timestamp : undefined,
      seq: typeof message.seq === 'number' ? message.seq : undefined,
      message: typeof message.message === 'string' ? message.message : undefined,
    },
    sent: message,
  };
}

/** The `detail` of a refused upgrade's body (its first 4 KiB, for at most 2 s), if it has one. */
function refusalDetail(response: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      response.destroy();
      try {
        const detail = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { detail?: unknown }).detail;
        resolve(typeof detail === 'string' ? detail : undefined);
      } catch {
        resolve(undefined);
      }
    };
    const timer = setTimeout(done, 2_000);
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= 4_096) done();
    });
    response.on('end', done);
    response.on('error', done);
  });
}

function utf8(raw: WebSocket.RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

/** One event as a line: time, type, name, id, and what changed. */
export function eventLine(message: LiveMessage, output: Output): string {
  const data = message.data ?? {};
  const service = (typeof data.service === 'object' && data.service !== null ? data.service : data) as Record<string, unknown>;
  const name = str(service.name) ?? str(data.service_name) ?? str(data.node_id) ?? '-';
  const id = str(data.incident_id) ?? str(service.service_id) ?? str(data.service_id) ?? '';
  const time = printable((message.timestamp ?? new Date().toISOString()).slice(11, 19));
  const details: string[] = [];
  if (typeof service.host === 'string') details.push(printable(`${service.host}:${String(service.port)}`));
  const health = str(data.health) ?? (message.type === 'health_status_changed' ? str(service.health) : undefined);
  if (health !== undefined) details.push(`health ${output.tone(health)}`);
  if (typeof data.previous_health === 'string') details.push(`was ${printable(data.previous_health)}`);
  if (typeof data.reason === 'string') details.push(printable(data.reason));
  if (typeof data.kind === 'string') details.push(printable(data.kind));
  if (typeof data.role === 'string') details.push(`role ${printable(data.role)}`);
  if (typeof data.load === 'number') details.push(`load ${data.load}`);
  if (typeof data.cause === 'string') details.push(printable(data.cause));
  const type = output.paint(printable(message.type).padEnd(22), COLORS[message.type] ?? 0);
  return `${output.dim(time)} ${type} ${name.padEnd(20)} ${id}${details.length ? `  ${details.join('  ')}` : ''}`.trimEnd();
}

interface WatchFlags extends FilterFlags {
  id?: string[];
  event?: string;
  since?: number;
  gatewayUrl?: string;
}

/**
 * Follows the live feed until Ctrl-C: every event as a line (NDJSON with --json); after a drop
 * it reconnects with `since=<last seq>`, so nothing is missed or shown twice.
 */
async function watch(context: Context, flags: WatchFlags): Promise<void> {
  const { output, options } = context;
  const gateway = flags.gatewayUrl ?? env('BEACON_GATEWAY_URL');
  const base =
    gateway === undefined
      ? await resolveUrl(options, output)
      : checkedUrl(gateway, '--gateway-url or BEACON_GATEWAY_URL', ['http:', 'https:', 'ws:', 'wss:']);
  const token = options.token ?? env('BEACON_TOKEN');
  let since: number | undefined = flags.since;
  let delay = FIRST_DELAY_MS;
  let stopping = false;
  let socket: WebSocket | undefined;
  const events = flags.event;
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      stopping = true;
      // A paused socket would not read the gateway's close frame: the closing handshake would hold
      // the process until its timeout.
      if (socket?.isPaused) socket.terminate();
      else socket?.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const connect = (): void => {
      const url = liveUrl(base, {
        type: flags.type,
        tags: flags.tag?.join(','),
        name: flags.name,
        service_id: flags.id?.join(','),
        events,
        since: since === undefined ? undefined : String(since),
      });
      const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, maxPayload: 16 * 1024 * 1024 });
      socket = ws;
      let openedAt: number | undefined;
      ws.on('open', () => {
        openedAt = Date.now();
      });
      ws.on('unexpected-response', (_request, response) => {
        const code = response.statusCode ?? 0;
        // A refusal (4xx) is not a passing state, unlike a gateway restarting behind nginx (502):
        // retrying would print the same refusal forever.
        if (code >= 400 && code < 500 && code !== 408 && code !== 429) {
          stopping = true;
          void refusalDetail(response).then((detail) => {
            ws.terminate();
            if (code === 401 || code === 403) reject(new CliError(`the gateway refused the token (HTTP ${code})`, EXIT.unauthorized));
            else if (code === 404)
              reject(
                new CliError(
                  `${base} has no live feed at /api/v1/ws (HTTP 404): point --gateway-url or BEACON_GATEWAY_URL at the realtime-gateway (port 8098 without nginx)`,
                ),
              );
            else reject(new CliError(`the gateway refused the watch (HTTP ${code})${detail === undefined ? '' : `: ${detail}`}`));
          });
          return;
        }
        ws.terminate();
        output.note(`the gateway answered HTTP ${code}; trying again`);
      });
      ws.on('message', (raw) => {
        const parsed = parseMessage(utf8(raw));
        if (parsed === undefined) return;
        const { message } = parsed;
        if (message.type === 'connection_established') {
          // Live from here: a later drop resumes after this position even if no event came yet.
          if (since === undefined && typeof message.seq === 'number') since = message.seq;
          output.note(`watching ${base}${flags.since !== undefined ? ` from seq ${flags.since}` : ''} (Ctrl-C stops)`);
          return;
        }
        if (message.type === 'resync_required') {
          output.note(`events after seq ${since} are no longer kept (${message.message ?? 'resync required'}); continuing live`);
          since = undefined;
          ws.close();
          return;
        }
        if (message.type === 'error') return output.note(`gateway: ${message.message ?? 'error'}`);
        if (message.type === 'pong' || message.type === 'subscribed' || message.type === 'snapshot') return;
        if (typeof message.seq === 'number') since = message.seq;
        const written = output.streamLine(output.mode === 'json' ? JSON.stringify(parsed.sent) : eventLine(message, output));
        // A reader slower than the feed (a pipe, a paused pager): stop reading the socket until
        // stdout drains, so the backlog waits in TCP and the gateway's bounded buffer, not here.
        if (!written && !ws.isPaused) {
          ws.pause();
          output.drained(() => ws.resume());
        }
      });
      let failure: string | undefined;
      ws.on('error', (error) => {
        failure = error.message;
      });
      ws.on('close', () => {
        if (stopping) return;
        // Back off until a connection holds: a gateway that accepts and drops at once is not hammered.
        if (openedAt !== undefined && Date.now() - openedAt >= STABLE_MS) delay = FIRST_DELAY_MS;
        if (openedAt !== undefined)
          output.note(`connection lost; resuming${since === undefined ? '' : ` after seq ${since}`} in ${delay / 1000}s`);
        // Never connected: say why, or the person watches a blank screen while it retries.
        else if (failure !== undefined) output.note(`cannot reach the gateway at ${base} (${failure}); trying again in ${delay / 1000}s`);
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      });
    };
    connect();
  });
}

export function addWatchCommand(program: Command): void {
  addFilterFlags(
    program
      .command('watch')
      .description('follow catalog and incident events live over the WebSocket (Ctrl-C stops); resumes after a drop')
      .option('--id <service-id>', 'only this service (repeatable)', collect)
      .option('--event <types>', 'comma-separated event types (default: all but service_heartbeat)')
      .option('--since <seq>', 'replay the events after this stream position first', integer('--since', 0))
      .option('--gateway-url <url>', "realtime-gateway's base URL (env BEACON_GATEWAY_URL; default: Beacon's URL)"),
    false,
  ).action(act(watch));
}
