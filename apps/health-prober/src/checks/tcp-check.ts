import { connect } from 'node:net';
import { TARGET_REFUSED, type SsrfGuard } from '@beacon/platform';
import { describeError, failed, timedOut, type CheckOutcome } from './check-outcome';

/** `host:port` or `[v6]:port` (the shape `health_check_tcp` is validated to), or null. */
export function parseHostPort(value: string): { host: string; port: number } | null {
  const match = /^(.+):(\d{1,5})$/.exec(value);
  if (!match) return null;
  const [, rawHost, rawPort] = match as unknown as [string, string, string];
  const port = Number(rawPort);
  if (port < 1 || port > 65535) return null;
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  if (host.length === 0 || (host.includes(':') && !rawHost.startsWith('['))) return null;
  return { host, port };
}

/**
 * TCP connect checks, for services that speak no HTTP (databases, brokers): the service
 * is healthy if it accepts a connection within the timeout. The connection is closed at
 * once; nothing is sent.
 */
export class TcpCheck {
  constructor(private readonly guard: SsrfGuard) {}

  check(target: string, timeoutMs: number): Promise<CheckOutcome> {
    const parsed = parseHostPort(target);
    if (!parsed) return Promise.resolve(failed('error', `not host:port: ${target}`));
    try {
      this.guard.assertHost(parsed.host);
    } catch (error) {
      return Promise.resolve(failed('refused', (error as Error).message));
    }
    return new Promise((resolve) => {
      const socket = connect({ host: parsed.host, port: parsed.port, lookup: this.guard.lookup });
      const finish = (outcome: CheckOutcome): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve(outcome);
      };
      // Covers the lookup too, which net's own connect timeout would not.
      const timer = setTimeout(() => finish(timedOut(timeoutMs)), timeoutMs);
      socket.once('connect', () => finish({ ok: true, health: 'healthy', outcome: 'healthy', status_code: null, load: null, error: null }));
      socket.once('error', (error) =>
        finish(
          (error as { code?: unknown }).code === TARGET_REFUSED ? failed('refused', error.message) : failed('error', describeError(error)),
        ),
      );
    });
  }
}
