import { WIRE_VERSION, type RequestErrorReply } from '@beacon/contracts';
import { DomainError, type DomainErrorKind } from '../http/errors';

/** A request was answered with an error document, timed out, or nobody listens. */
export class NatsRequestError extends Error {
  constructor(
    message: string,
    readonly code: 'no_responders' | 'timeout' | RequestErrorReply['error']['code'],
  ) {
    super(message);
    this.name = 'NatsRequestError';
  }
}

/** Thrown by a request handler to refuse a request it understood but cannot serve. */
export class RequestError extends Error {
  constructor(
    readonly code: 'bad_request' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** An error document: `error` is an object with a code (a probe result's `error` is a string). */
export function isErrorReply(document: unknown): document is RequestErrorReply {
  if (typeof document !== 'object' || document === null || !('error' in document)) return false;
  const error = document.error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}

/** The domain refusals a requester is told about; other kinds are the responder's failure. */
const REQUEST_ERROR_CODE_OF_KIND: Partial<Record<DomainErrorKind, RequestError['code']>> = {
  invalid: 'bad_request',
  not_found: 'not_found',
};

/** The code a handler's error is answered with, or null when it is not a refusal. */
export function refusalCode(error: unknown): RequestError['code'] | null {
  if (error instanceof RequestError) return error.code;
  if (error instanceof DomainError) return REQUEST_ERROR_CODE_OF_KIND[error.kind] ?? null;
  return null;
}

export function errorReply(
  code: RequestErrorReply['error']['code'],
  message: string,
  fields?: RequestErrorReply['error']['fields'],
): RequestErrorReply {
  return { v: WIRE_VERSION, error: { code, message, ...(fields ? { fields } : {}) } };
}
