import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/** Nest's own start-up chatter (module and route listings) is debug detail, not news. */
const FRAMEWORK_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/**
 * The app a piece of work belongs to, when several Nest apps share a process (@beacon/single
 * starts each inside `appLogScope.run({}, ...)`; createHttpApp fills in its logger). Nest
 * keeps one logger per process (`Logger.overrideLogger` is static): without this, the
 * framework's lines of every app would carry the name of whichever app installed it last.
 * Work an app starts (its server's requests, its timers, its NATS callbacks) inherits the
 * scope. Alone in its process an app has no scope, and its bridge's own logger is used.
 */
export const appLogScope = new AsyncLocalStorage<{ logger?: Logger }>();

/** Nest's logger calls, sent to the pino logger of the app they come from. */
export class NestLogBridge implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private get target(): Logger {
    return appLogScope.getStore()?.logger ?? this.logger;
  }

  log(message: unknown, context?: string): void {
    const level = context && FRAMEWORK_CONTEXTS.has(context) ? 'debug' : 'info';
    this.target[level]({ context }, String(message));
  }

  error(message: unknown, stack?: string, context?: string): void {
    // Start-up failures are reported once, by runMain, with a stack only when it helps.
    const level = context === 'ExceptionHandler' ? 'debug' : 'error';
    this.target[level]({ context, stack }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.target.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.target.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.target.trace({ context }, String(message));
  }
}
