import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';

/**
 * A request body as it arrived: its bytes and the Content-Type they came with. Nothing
 * decodes it until a route reads it (`ContractPipe`), so a route that takes no body
 * (a heartbeat, a DELETE) never fails on what a client happened to send.
 */
export class RawBody {
  constructor(
    /** The Content-Type header as sent, or undefined when there was none. */
    readonly contentType: string | undefined,
    readonly bytes: Buffer,
  ) {}
}

/** `type/subtype` with RFC 9110 token characters; Fastify answers 415 itself for anything else. */
const MEDIA_TYPE = /^\s*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(?:;.*)?$/s;

/** Whether Fastify accepts a Content-Type header as a media type (the unit test compares with Fastify's own). */
export const isParseableType = (header: string): boolean => MEDIA_TYPE.test(header);

/** Content-Type headers Fastify could not parse, moved out of its way (see `installBodyReader`). */
const unparsedTypes = new WeakMap<FastifyRequest, string>();

/**
 * Replaces Fastify's per-type parsers with one that keeps any body's bytes, up to
 * `bodyLimit` (413 beyond, checked while reading, so memory stays bounded on every route).
 * A Content-Type Fastify cannot parse (`foo`, an empty value) would get its 415 before
 * routing; it is moved aside here and kept for the route that reads the body to judge.
 */
export function installBodyReader(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (request, bytes, done) => {
    const header = request.headers['content-type'] ?? unparsedTypes.get(request);
    done(null, new RawBody(header, bytes as Buffer));
  });
  fastify.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers['content-type'];
    if (header !== undefined && !isParseableType(header)) {
      unparsedTypes.set(request, header);
      delete request.headers['content-type'];
    }
    done();
  });
}

/** `application/json` or `application/<anything>+json`, parameters ignored. */
export function isJsonType(contentType: string): boolean {
  const mediaType = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[^/]+\+json$/.test(mediaType);
}

const BLANK = /^\s*$/;
const SHOWN_TYPE_LENGTH = 100;

/** A client's header as echoed in an error: enough to recognise it, never all 16 KiB of it. */
const shorten = (value: string): string => (value.length > SHOWN_TYPE_LENGTH ? `${value.slice(0, SHOWN_TYPE_LENGTH)}…` : value);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON a route's body holds, or undefined when there is none (no body, or an empty
 * or blank one: heartbeat-style clients send `PUT` with none). A body with no (or an
 * empty) Content-Type is read as JSON, as the original (FastAPI) did. Throws 415 for a body of
 * another type, 400 for bytes that are not UTF-8 or not JSON, and for `__proto__` and
 * `constructor.prototype` keys.
 */
export function decodeJsonBody(body: unknown): unknown {
  if (!(body instanceof RawBody)) return body;
  if (body.bytes.length === 0) return undefined;
  const contentType = body.contentType?.trim();
  if (contentType && !isJsonType(contentType)) {
    throw new UnsupportedMediaTypeException({
      detail: `Unsupported Content-Type "${shorten(contentType)}": this route reads a JSON body; send it with "Content-Type: application/json"`,
    });
  }
  let text: string;
  try {
    text = utf8.decode(body.bytes);
  } catch {
    throw new BadRequestException({ detail: 'Body is not valid UTF-8: JSON bodies must be encoded as UTF-8' });
  }
  if (BLANK.test(text)) return undefined;
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BadRequestException({ detail: `Body is not valid JSON: ${reason}` });
  }
}
