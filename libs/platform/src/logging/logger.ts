import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { PlatformEnv } from '../config/platform-env';
import { REDACTED } from './access-log';

export type { Logger } from 'pino';

const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/** The process's root logger: JSON lines by default, human-readable with LOG_FORMAT=pretty. */
export function createLogger(appName: string, settings: Pick<PlatformEnv, 'LOG_LEVEL' | 'LOG_FORMAT'>): Logger {
  const options = {
    name: appName,
    level: settings.LOG_LEVEL,
    base: { app: appName, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Credentials in a request or response logged by anything else than the access log.
    redact: { paths: SECRET_PATHS, censor: REDACTED },
  };
  if (settings.LOG_FORMAT === 'pretty') {
    // Synchronous so the last lines before an exit are not lost.
    return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY, ignore: 'pid,hostname,app' }));
  }
  return pino(options);
}
