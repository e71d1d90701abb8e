import { TARGET_REFUSED, type SsrfGuard } from '@beacon/platform';
import got, { type Got, type PlainResponse } from 'got';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { RenderedRequest } from './webhook-formats';

/** How one POST ended. `retryable`: worth another try later (the receiver is away or busy). */
export interface SendOutcome {
  delivered: boolean;
  retryable: boolean;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  /** The receiver's `Retry-After`, in ms, when it gave a usable one. */
  retryAfterMs: number | null;
}

/** Of a refusal's body, only this much is read (for the log entry); the rest is abandoned. */
const MAX_BODY_BYTES = 512;
const RETRYABLE_STATUS = new Set([408, 425, 429]);

export interface SenderOptions {
  timeoutMs: number;
  /** Sockets open at once per receiver host. */
  maxSockets: number;
  userAgent: string;
}

/**
 * POSTs webhook requests with got: no redirects followed (a 3xx is the receiver's answer),
 * no retries of its own, a timeout over the whole request, and the SSRF guard vetting every
 * address a name resolves to as the socket connects (IP literals before the request).
 */
export class WebhookSender {
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 0 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 0 }),
  };
  private readonly client: Got;

  constructor(
    private readonly guard: SsrfGuard,
    private readonly options: SenderOptions,
  ) {
    this.agents.http.maxSockets = options.maxSockets;
    this.agents.https.maxSockets = options.maxSockets;
    this.client = got.extend({
      agent: this.agents,
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      dnsLookup: guard.lookup,
      headers: { 'user-agent': options.userAgent },
    });
  }

  /** POSTs `request` to `url`, waiting at most `timeoutMs` (the configured timeout by default). */
  async send(url: string, request: RenderedRequest, timeoutMs = this.options.timeoutMs): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      const target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`unsupported protocol ${target.protocol}`);
      this.guard.assertHost(target.hostname);
    } catch (error) {
      return refused(error, 0);
    }
    const stream = this.client.stream.post(url, {
      body: request.body,
      headers: request.headers,
      timeout: { request: timeoutMs },
    });
    // A capped read tears the stream down; its late errors change nothing (and must not crash the process).
    stream.on('error', () => undefined);
    let response: PlainResponse | null = null;
    stream.once('response', (answer: PlainResponse) => {
      response = answer;
    });
    try {
      const body = await readCapped(stream);
      const answered = response as PlainResponse | null;
      if (!answered) return failure('no response', elapsed(), true);
      return verdict(answered, body, elapsed());
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === TARGET_REFUSED) return refused(error, elapsed());
      const timedOut = code === 'ETIMEDOUT' || (error as Error).name === 'TimeoutError';
      const message = timedOut ? `no answer within ${timeoutMs} ms` : describe(error);
      return { ...failure(message, elapsed(), true), statusCode: (response as PlainResponse | null)?.statusCode ?? null };
    }
  }

  /** Closes the keep-alive sockets at shutdown. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function verdict(response: PlainResponse, body: string, latencyMs: number): SendOutcome {
  const status = response.statusCode;
  if (status >= 200 && status < 300) {
    return { delivered: true, retryable: false, statusCode: status, error: null, latencyMs, retryAfterMs: null };
  }
  const snippet = body.trim().replace(/\s+/g, ' ').slice(0, 200);
  const said = snippet ? `: ${snippet}` : '';
  if (RETRYABLE_STATUS.has(status) || status >= 500) {
    return {
      delivered: false,
      retryable: true,
      statusCode: status,
      error: `HTTP ${status}${said}`,
      latencyMs,
      retryAfterMs: retryAfter(response.headers['retry-after']),
    };
  }
  const why =
    status >= 300 && status < 400
      ? `HTTP ${status}: redirects are not followed (Location: ${String(response.headers.location ?? 'none')})`
      : `HTTP ${status}: the receiver refused it${said}`;
  return { delivered: false, retryable: false, statusCode: status, error: why, latencyMs, retryAfterMs: null };
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function failure(error: string, latencyMs: number, retryable: boolean): SendOutcome {
  return { delivered: false, retryable, statusCode: null, error, latencyMs, retryAfterMs: null };
}

function refused(error: unknown, latencyMs: number): SendOutcome {
  return failure(`refused: ${(error as Error).message}`, latencyMs, false);
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

function readCapped(stream: ReturnType<Got['stream']>): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= MAX_BODY_BYTES) {
        stream.off('data', onData);
        stream.destroy();
        resolve(Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8'));
      }
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}
