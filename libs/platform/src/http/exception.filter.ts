import type { ErrorResponse } from '@beacon/contracts';
import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { DomainError, HTTP_STATUS_OF_KIND, clientErrorBody } from './errors';

/**
 * Every error leaves as `{ detail, errors? }`. Client errors keep their status, domain
 * errors get their kind's status; anything unexpected is logged with its stack and
 * answered 500 without internals.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly bodyLimit: number,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof DomainError) {
      this.answer(reply, exception, HTTP_STATUS_OF_KIND[exception.kind], { detail: exception.message });
      return;
    }
    if (exception instanceof HttpException) {
      this.answer(reply, exception, exception.getStatus(), clientErrorBody(exception, this.bodyLimit));
      return;
    }
    this.logger.error({ err: exception }, 'unhandled error');
    void reply.status(500).send({ detail: 'Internal server error' });
  }

  private answer(reply: FastifyReply, exception: Error, status: number, body: ErrorResponse): void {
    if (status >= 500) this.logger.warn({ err: exception }, 'request failed');
    void reply.status(status).send(body);
  }
}
