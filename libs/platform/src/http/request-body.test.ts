import { HttpException } from '@nestjs/common';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { RawBody, decodeJsonBody, isJsonType, isParseableType } from './request-body';

/** Fastify's own Content-Type parser (internal), the one that answers 415 before routing. */
const FastifyContentType = createRequire(require.resolve('fastify'))('./lib/content-type.js') as {
  from(header: string): { isValid: boolean };
};

const raw = (contentType: string | undefined, text: string | Buffer): RawBody =>
  new RawBody(contentType, typeof text === 'string' ? Buffer.from(text) : text);

/** The status and `detail` that decoding a body fails with. */
function failure(body: RawBody): { status: number; detail: string } {
  try {
    decodeJsonBody(body);
  } catch (error) {
    if (!(error instanceof HttpException)) throw error;
    return { status: error.getStatus(), detail: (error.getResponse() as { detail: string }).detail };
  }
  throw new Error('decoding succeeded');
}

describe('isJsonType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON;Charset=UTF-8',
    ' application/json ',
    'application/vnd.beacon+json',
    'application/merge-patch+json; charset=utf-8',
    'application/problem+JSON',
  ])('%s is JSON', (type) => expect(isJsonType(type)).toBe(true));

  it.each([
    'text/plain',
    'text/json',
    'application/octet-stream',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
    'application/+json/x',
    'json',
    '',
  ])('%s is not', (type) => expect(isJsonType(type)).toBe(false));
});

describe('isParseableType', () => {
  it.each([
    'application/json',
    ' application/json ',
    'text/plain; charset=utf-8',
    'multipart/form-data; boundary=XyZ',
    'application/vnd.beacon+json;v=1',
    'a/b;',
    '',
    ' ',
    'nonsense',
    'undefined',
    'application /json',
    'application/ json',
    'application/json/x',
    '/json',
    'application/',
    'text/plain;;;',
    'tëxt/plain',
    'application/json, text/plain',
    '*/*',
  ])('agrees with Fastify on %j', (header) => {
    expect(isParseableType(header)).toBe(FastifyContentType.from(header).isValid);
  });
});

describe('decodeJsonBody', () => {
  it('parses JSON bodies labelled as JSON, or not labelled at all', () => {
    expect(decodeJsonBody(raw('application/json', '{"a":1}'))).toEqual({ a: 1 });
    expect(decodeJsonBody(raw('application/json; charset=utf-8', '{"a":"ü"}'))).toEqual({ a: 'ü' });
    expect(decodeJsonBody(raw('application/vnd.beacon+json', '[1]'))).toEqual([1]);
    expect(decodeJsonBody(raw(undefined, '{"a":1}'))).toEqual({ a: 1 });
    expect(decodeJsonBody(raw('', '{"a":1}'))).toEqual({ a: 1 });
    expect(decodeJsonBody(raw('application/json', '\uFEFF{"a":1}'))).toEqual({ a: 1 });
  });

  it('reads no body, an empty one and a blank JSON one as none, whatever the type', () => {
    expect(decodeJsonBody(undefined)).toBeUndefined();
    for (const type of ['application/json', 'application/octet-stream', 'application/x-www-form-urlencoded', 'text/plain', undefined]) {
      expect(decodeJsonBody(raw(type, ''))).toBeUndefined();
    }
    expect(decodeJsonBody(raw('application/json', ' \r\n\t'))).toBeUndefined();
  });

  it('refuses a non-empty body of another type with a 415 naming the type and what to send', () => {
    expect(failure(raw('text/plain', '{"a":1}'))).toEqual({
      status: 415,
      detail: 'Unsupported Content-Type "text/plain": this route reads a JSON body; send it with "Content-Type: application/json"',
    });
    expect(failure(raw('application/x-www-form-urlencoded', 'a=1')).detail).toContain('"application/x-www-form-urlencoded"');
    expect(failure(raw('foo', 'x')).detail).toContain('"foo"');
    const long = failure(raw(`text/plain; p=${'x'.repeat(500)}`, 'x'));
    expect(long.status).toBe(415);
    expect(long.detail.length).toBeLessThan(250);
  });

  it('refuses bytes that are not UTF-8 with a 400 that says so', () => {
    for (const bytes of [Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), Buffer.from('{"a":"\xe9"}', 'latin1'), Buffer.from([0xc3])]) {
      expect(failure(raw('application/json', bytes))).toEqual({
        status: 400,
        detail: 'Body is not valid UTF-8: JSON bodies must be encoded as UTF-8',
      });
    }
  });

  it('keeps the syntax-error message and the prototype-poisoning refusals', () => {
    expect(failure(raw('application/json', '{"a":'))).toEqual({ status: 400, detail: expect.stringMatching(/^Body is not valid JSON: /) });
    expect(failure(raw('application/json', '{"__proto__":{"x":1}}')).detail).toMatch(/prototype/i);
    expect(failure(raw('application/json', '{"constructor":{"prototype":{"x":1}}}')).detail).toMatch(/prototype/i);
  });
});
