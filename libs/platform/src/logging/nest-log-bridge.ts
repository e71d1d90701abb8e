import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/** Nest's own start-up chatter (module and route listings) is debug detail, not news. */
const FRAMEWORK_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Nest's logger calls, sent to the process's pino logger. */
export class NestLogBridge implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    const level = context && FRAMEWORK_CONTEXTS.has(context) ? 'debug' : 'info';
    this.logger[level]({ context }, String(message));
  }

  error(message: unknown, stack?: string, context?: string): void {
    // Start-up failures are reported once, by runMain, with a stack only when it helps.
    const level = context === 'ExceptionHandler' ? 'debug' : 'error';
    this.logger[level]({ context, stack }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
