import { inboxPrefix, type NatsIdentity } from '@beacon/contracts';
import { ErrorCode, Events, NatsError, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { StartupError } from '../config/env';
import type { PlatformEnv } from '../config/platform-env';

export type NatsAuthSettings = Pick<PlatformEnv, 'NATS_URL' | 'NATS_CREDS_FILE' | 'NATS_TLS_CA'> &
  Partial<Pick<PlatformEnv, 'NATS_USER' | 'NATS_PASSWORD_FILE'>>;

/** A secret file's content, without the line end editors and `echo` add. */
function readSecret(variable: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StartupError(`${variable}=${path} cannot be read (${reason}): it must name a file holding the NATS password`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new StartupError(`${variable}=${path} is empty: it must hold the NATS password`);
  return secret;
}

/** User and password from NATS_USER and NATS_PASSWORD_FILE, which come as a pair. */
function userPassword(settings: NatsAuthSettings): Pick<ConnectionOptions, 'user' | 'pass' | 'inboxPrefix'> {
  const { NATS_USER: user, NATS_PASSWORD_FILE: file } = settings;
  if (!user && !file) return {};
  if (!user) throw new StartupError('NATS_PASSWORD_FILE is set but NATS_USER is not: set the NATS user the password belongs to');
  if (!file) throw new StartupError(`NATS_USER=${user} is set but NATS_PASSWORD_FILE is not: set the file holding its password`);
  // Replies to this identity's requests arrive under its own inbox, the only one its
  // permissions let it subscribe to (see libs/contracts nats-permissions.ts).
  return { user, pass: readSecret('NATS_PASSWORD_FILE', file), inboxPrefix: inboxPrefix(user as NatsIdentity) };
}

/** How this app connects: servers, reconnecting for ever, and its credentials and TLS if configured. */
export function natsConnectOptions(appName: string, settings: NatsAuthSettings): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: settings.NATS_URL.split(',').map((server) => server.trim()),
    name: appName,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
    timeout: 5000,
    ...userPassword(settings),
  };
  if (settings.NATS_CREDS_FILE) options.authenticator = credsAuthenticator(readFileSync(settings.NATS_CREDS_FILE));
  if (settings.NATS_TLS_CA) options.tls = { caFile: settings.NATS_TLS_CA };
  return options;
}

export function isAuthorizationError(error: unknown): boolean {
  return (
    error instanceof NatsError && (error.code === (ErrorCode.AuthorizationViolation as string) || error.code === 'AUTHENTICATION_EXPIRED')
  );
}

/** What to tell the operator when the server refuses this app's credentials. */
export function authorizationFailure(settings: NatsAuthSettings): string {
  const who = settings.NATS_USER
    ? `NATS_USER=${settings.NATS_USER} (password from NATS_PASSWORD_FILE=${settings.NATS_PASSWORD_FILE ?? ''})`
    : settings.NATS_CREDS_FILE
      ? `the credentials in NATS_CREDS_FILE=${settings.NATS_CREDS_FILE}`
      : 'no credentials (NATS_USER and NATS_PASSWORD_FILE are unset)';
  return `NATS at ${settings.NATS_URL} refused ${who}: Authorization Violation. Check the user and password the server expects`;
}

/**
 * After the first connect the server may still refuse these credentials on a reconnect (its
 * users changed): say so plainly, since nats.js reports it only as an error code and then
 * gives up reconnecting.
 */
export function watchAuthorization(connection: NatsConnection, settings: NatsAuthSettings, logger: Logger): void {
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === Events.Error && status.data === (ErrorCode.AuthorizationViolation as string)) {
        logger.error({ nats: settings.NATS_URL, user: settings.NATS_USER }, authorizationFailure(settings));
      }
    }
  })();
}
