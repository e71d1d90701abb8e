import type { OnApplicationShutdown } from '@nestjs/common';
import got, { type Got, type PlainResponse } from 'got';
import http from 'node:http';
import https from 'node:https';
import { TARGET_REFUSED, type SsrfGuard } from '@beacon/platform';
import { describeError, failed, timedOut, type CheckOutcome } from './check-outcome';
import { httpVerdict } from './http-verdict';

export interface HttpCheckOptions {
  userAgent: string;
  /** Bytes of a body read at most; the rest is never downloaded (`PROBE_MAX_BODY_BYTES`). */
  maxBodyBytes: number;
}

/** Redirects followed before a check counts as an error. */
export const MAX_REDIRECTS = 3;
/**
 * Idle keep-alive sockets are closed after this long (sooner if the server's Keep-Alive
 * header says so). Checks more frequent than this reuse their connection; slower ones
 * reconnect rather than hold one socket per target open between checks.
 */
const IDLE_SOCKET_MS = 15_000;
/** URLs whose verdict is remembered at most (see `verdicts`). */
const MAX_VERDICTS = 100_000;

/**
 * HTTP health checks with got: one keep-alive agent per protocol for every target, a
 * timeout over the whole check (redirects included), no retries (one check, one result),
 * at most three redirects, and a body read that stops at the cap.
 */
export class HttpCheck implements OnApplicationShutdown {
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    https: new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  private readonly client: Got;
  /**
   * What the URL itself allows, by URL: parsing it and vetting an IP literal give the same
   * answer at every check, so the work is done once per target (null: go ahead).
   */
  private readonly verdicts = new Map<string, CheckOutcome | null>();

  constructor(
    private readonly guard: SsrfGuard,
    private readonly options: HttpCheckOptions,
  ) {
    this.client = got.extend({
      agent: this.agents,
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: true,
      maxRedirects: MAX_REDIRECTS,
      // Vets every address a name resolves to, on each connection (redirects included).
      dnsLookup: guard.lookup,
      headers: { 'user-agent': options.userAgent, accept: 'application/json, */*;q=0.5' },
      hooks: {
        // Node connects to IP literals without a lookup: a redirect to one is vetted here.
        beforeRedirect: [(redirected) => guard.assertHost(redirected.url instanceof URL ? redirected.url.hostname : '')],
      },
    });
  }

  async check(url: string, timeoutMs: number): Promise<CheckOutcome> {
    const verdict = this.verdict(url);
    if (verdict) return verdict;
    let stream: ReturnType<Got['stream']>;
    try {
      stream = this.client.stream(url, { timeout: { request: timeoutMs } });
    } catch (error) {
      return failed('error', describeError(error));
    }
    // got's request timeout restarts on each redirect; this bounds the whole check.
    let deadlinePassed = false;
    const deadline = setTimeout(() => {
      deadlinePassed = true;
      stream.destroy(new Error('deadline passed'));
    }, timeoutMs);
    // Errors after the loop below has stopped listening (a capped read being torn down)
    // change nothing: the outcome is decided. Without a listener they would crash the process.
    stream.on('error', () => undefined);
    let statusCode: number | null = null;
    stream.once('response', (response: PlainResponse) => {
      statusCode = response.statusCode;
    });
    try {
      const body = await this.readCapped(stream);
      if (statusCode === null) return failed('error', 'no response');
      if (statusCode < 100 || statusCode > 599) return failed('error', `invalid status code ${String(statusCode)}`);
      return httpVerdict(statusCode, body);
    } catch (error) {
      return this.failure(error, timeoutMs, deadlinePassed, statusCode);
    } finally {
      clearTimeout(deadline);
    }
  }

  private verdict(url: string): CheckOutcome | null {
    const known = this.verdicts.get(url);
    if (known !== undefined) return known;
    let verdict: CheckOutcome | null = null;
    try {
      const target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`unsupported protocol ${target.protocol}`);
      this.guard.assertHost(target.hostname);
    } catch (error) {
      verdict =
        (error as { code?: unknown }).code === TARGET_REFUSED
          ? failed('refused', (error as Error).message)
          : failed('error', `invalid URL: ${(error as Error).message}`);
    }
    // Bounded: targets come and go; forgetting all now and then costs one parse each.
    if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
    this.verdicts.set(url, verdict);
    return verdict;
  }

  /** Closes the keep-alive sockets; the checks in flight have ended by now (before-shutdown hooks wait for them). */
  onApplicationShutdown(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /**
   * The body as text, or null if it was longer than the cap (the download is then
   * abandoned). Stream events, not `for await`: an async iterator costs a promise per
   * chunk, and a health body is usually one chunk read thousands of times a second.
   */
  private readCapped(stream: ReturnType<Got['stream']>): Promise<string | null> {
    const limit = this.options.maxBodyBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      // got decompresses before we count, so a small compressed body that inflates is cut off too.
      const onData = (chunk: Buffer): void => {
        received += chunk.length;
        if (received > limit) {
          stream.off('data', onData);
          stream.destroy();
          resolve(null);
          return;
        }
        chunks.push(chunk);
      };
      stream.on('data', onData);
      stream.once('end', () => resolve(Buffer.concat(chunks, received).toString('utf8')));
      stream.once('error', reject);
    });
  }

  private failure(error: unknown, timeoutMs: number, deadlinePassed: boolean, statusCode: number | null): CheckOutcome {
    const code = (error as { code?: unknown }).code;
    if (code === TARGET_REFUSED) return failed('refused', (error as Error).message);
    if (deadlinePassed || code === 'ETIMEDOUT' || (error as Error).name === 'TimeoutError') return timedOut(timeoutMs);
    if (code === 'ERR_TOO_MANY_REDIRECTS') return failed('error', `more than ${MAX_REDIRECTS} redirects`);
    return failed('error', describeError(error), statusCode);
  }
}
