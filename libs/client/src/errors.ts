/** What went wrong, in a form a program can branch on (the CLI maps it to exit codes). */
export type BeaconErrorCode =
  | 'bad_request' // 400, 413, 415, 422
  | 'unauthorized' // 401, 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'gone' // 410 (a tombstoned id: deleted by an operator)
  | 'rate_limited' // 429
  | 'unavailable' // 502, 503, 504
  | 'server' // other 5xx
  | 'network' // no answer: refused, reset, DNS, timeout (status 0)
  | 'protocol'; // an answer that is not what the API documents (status kept)

export interface BeaconErrorInit {
  code: BeaconErrorCode;
  status: number;
  detail: string;
  body?: unknown;
  method: string;
  path: string;
  cause?: unknown;
}

/** Every failure of the SDK's calls: `detail` is the server's sentence, or one saying what went wrong. */
export class BeaconError extends Error {
  readonly code: BeaconErrorCode;
  /** HTTP status; 0 when nothing answered. */
  readonly status: number;
  readonly detail: string;
  /** The parsed JSON body when there was one. */
  readonly body: unknown;
  readonly method: string;
  readonly path: string;

  constructor(init: BeaconErrorInit) {
    super(`${init.method} ${init.path}: ${init.detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'BeaconError';
    this.code = init.code;
    this.status = init.status;
    this.detail = init.detail;
    this.body = init.body;
    this.method = init.method;
    this.path = init.path;
  }
}

/** The code an HTTP error status maps to. */
export function codeForStatus(status: number): BeaconErrorCode {
  switch (status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return 'bad_request';
    case 401:
    case 403:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 410:
      return 'gone';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
  }
  if (status >= 500) return 'server';
  if (status >= 400) return 'bad_request';
  return 'protocol';
}

/** True for a BeaconError with one of these codes. */
export function isBeaconError(error: unknown, ...codes: BeaconErrorCode[]): error is BeaconError {
  return error instanceof BeaconError && (codes.length === 0 || codes.includes(error.code));
}
