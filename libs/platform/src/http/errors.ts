import type { ErrorResponse, FieldError } from '@beacon/contracts';
import { BadRequestException, HttpException, HttpStatus } from '@nestjs/common';

/**
 * How a domain refusal is classed. Each edge maps a kind once: an HTTP status in
 * `AllExceptionsFilter`, a `RequestError` code in `NatsService.serve`.
 */
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict' | 'limited' | 'unavailable' | 'timeout';

/**
 * A refusal in the domain's own terms, thrown by services instead of HTTP exceptions.
 * `message` is the sentence a client reads (`detail` over HTTP, `message` over NATS).
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export const HTTP_STATUS_OF_KIND: Readonly<Record<DomainErrorKind, number>> = {
  invalid: HttpStatus.BAD_REQUEST,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  /** A configured limit is reached (the catalog is full): the same request may work later. */
  limited: HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  timeout: HttpStatus.GATEWAY_TIMEOUT,
};

/** A 400 whose body names each bad field; thrown by the edges that validate input. */
export class InvalidInputException extends BadRequestException {
  constructor(errors: FieldError[], what = 'request') {
    const summary = errors.map((error) => `${error.field}: ${error.message}`).join('; ');
    super({ detail: `Invalid ${what}: ${summary}`, errors } satisfies ErrorResponse);
  }
}

/** The `{ detail }` body (seed 000 clients read `detail`) for any HttpException. */
export function errorBody(exception: HttpException): ErrorResponse {
  const response = exception.getResponse();
  if (typeof response === 'string') return { detail: response };
  if (typeof response === 'object' && response !== null) {
    const body = response as Partial<ErrorResponse> & { message?: unknown };
    if (typeof body.detail === 'string') return body as ErrorResponse;
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    if (typeof message === 'string') return { detail: message };
  }
  return { detail: exception.message };
}

/** Whether an exception carries a `{ detail }` Beacon wrote itself (not one Nest derived from a status). */
function hasOwnDetail(exception: HttpException): boolean {
  const response = exception.getResponse();
  return typeof response === 'object' && response !== null && typeof (response as Partial<ErrorResponse>).detail === 'string';
}

/**
 * The body for an HttpException. Errors Fastify raises before a route runs reach the filter
 * as bare HttpExceptions (Nest maps them by status): give them messages that say what to do.
 */
export function clientErrorBody(exception: HttpException, bodyLimit: number): ErrorResponse {
  const body = errorBody(exception);
  if (hasOwnDetail(exception)) return body;
  const status = exception.getStatus() as HttpStatus;
  if (status === HttpStatus.PAYLOAD_TOO_LARGE) return { detail: `Request body is larger than ${bodyLimit} bytes` };
  if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) {
    return { detail: 'Unsupported Content-Type: send JSON with "Content-Type: application/json"' };
  }
  return body;
}
