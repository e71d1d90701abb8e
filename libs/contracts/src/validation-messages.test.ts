import { describe, expect, it } from 'vitest';
import { RegisterServiceDto, UpdateServiceDto } from './service.dto';
import { parseServiceQuery, validateInput } from './validation';

/** The errors of an input that must fail, as `field → message`. */
function messages(result: ReturnType<typeof validateInput>): Record<string, string> {
  expect(result.ok).toBe(false);
  if (result.ok) return {};
  const fields = result.errors.map((error) => error.field);
  expect(new Set(fields).size, `one message per field: ${JSON.stringify(result.errors)}`).toBe(fields.length);
  return Object.fromEntries(result.errors.map((error) => [error.field, error.message]));
}

const register = (patch: Record<string, unknown>): Record<string, string> =>
  messages(validateInput(RegisterServiceDto, { name: 'svc', host: '10.0.0.1', port: 80, ...patch }));

describe('one message per field: the first rule it breaks, its kind first', () => {
  it.each([
    ['port: "http"', { port: 'http' }, 'port', 'must be an integer number'],
    ['port: true', { port: true }, 'port', 'must be an integer number'],
    ['port: 80.5', { port: 80.5 }, 'port', 'must be an integer number'],
    ['port: 0', { port: 0 }, 'port', 'must not be less than 1'],
    ['port: 70000', { port: 70000 }, 'port', 'must not be greater than 65535'],
    ['port missing', { port: undefined }, 'port', 'must be an integer number'],
    ['tags: "a,b"', { tags: 'a,b' }, 'tags', 'must be an array'],
    ['tags: [1]', { tags: [1] }, 'tags', 'each value in tags must be a string'],
    [
      'tags: [""]',
      { tags: [''] },
      'tags',
      'each value in tags must be longer than or equal to 1 and shorter than or equal to 100 characters',
    ],
    ['tags: ["a,b"]', { tags: ['a,b'] }, 'tags', 'must not contain commas (filters use them as separators)'],
    ['name: 123', { name: 123 }, 'name', 'must be a string'],
    ['name: ""', { name: '' }, 'name', 'must be longer than or equal to 1 characters'],
    ['name: "   "', { name: '   ' }, 'name', 'must not be blank'],
    ['host: 5', { host: 5 }, 'host', 'must be a string'],
    ['ttl: "soon"', { ttl: 'soon' }, 'ttl', 'must be an integer number'],
    ['health_check_url: 5', { health_check_url: 5 }, 'health_check_url', 'must be a string'],
  ])('%s', (_label, patch, field, message) => {
    expect(register(patch)).toEqual({ [field]: message });
  });

  it('still names every bad field, once each', () => {
    expect(register({ port: 'http', tags: 'a,b', ttl: 5, colour: 'red' })).toEqual({
      port: 'must be an integer number',
      tags: 'must be an array',
      ttl: 'must not be less than 10',
      colour: 'is not an accepted field',
    });
  });

  it('a null that may not clear a field says it must be a value of its kind', () => {
    expect(messages(validateInput(UpdateServiceDto, { name: null, port: null }))).toEqual({
      name: 'must be a string',
      port: 'must be an integer number',
    });
  });

  it('query parameters: a repeated one is reported as such, not as a wrong type', () => {
    expect(messages(parseServiceQuery({ type: ['a', 'b'], limit: 'ten' }))).toEqual({
      type: 'must be given once',
      limit: 'must be an integer number',
    });
  });
});

describe('identity rules (issue 13): control characters, reserved mDNS types, credentials in URLs', () => {
  it.each([
    ['name with NUL', { name: 'a\u0000b' }, 'name'],
    ['name with a newline', { name: 'svc\nforged log line' }, 'name'],
    ['name with DEL', { name: 'a\u007fb' }, 'name'],
    ['name with a C1 control', { name: 'a\u0085b' }, 'name'],
    ['type', { type: 'http\u0000' }, 'type'],
    ['protocol', { protocol: 'tcp\u001b' }, 'protocol'],
    ['version', { version: '1.0\r' }, 'version'],
    ['node_id', { node_id: 'n\u0000' }, 'node_id'],
    ['instance_id', { instance_id: 'b\u0000c' }, 'instance_id'],
    ['a tag', { tags: ['ok', 'bad\u0000tag'] }, 'tags'],
  ])('%s is refused, naming the field', (_label, patch, field) => {
    const errors = register(patch);
    expect(Object.keys(errors)).toEqual([field]);
    expect(errors[field]).toBe('must not contain control characters (U+0000–U+001F, U+007F–U+009F)');
  });

  it('metadata and TXT keys with control characters are refused, the key shown escaped', () => {
    expect(register({ metadata: { 'a\u0000b': 'x' } })).toEqual({ metadata: 'key "a\\u0000b" must not contain control characters' });
    expect(register({ mdns_txt_records: { 'k\n': 'v' } })).toEqual({ mdns_txt_records: 'key "k\\n" must not contain control characters' });
    // Values are free text: a newline in a description is no identity.
    expect(validateInput(RegisterServiceDto, { name: 'svc', host: '10.0.0.1', port: 80, metadata: { note: 'two\nlines' } }).ok).toBe(true);
  });

  const FORMAT_MESSAGE =
    'must not contain invisible format characters or line separators (Unicode Cf, Zl, Zp, such as U+200B, U+202E, U+FEFF)';

  it.each([
    ['name with a zero-width space', { name: 'a\u200bb' }, 'name'],
    ['name with a bidi override', { name: 'x\u202ey' }, 'name'],
    ['name with a line separator', { name: 'a\u2028b' }, 'name'],
    ['name with a paragraph separator', { name: 'a\u2029b' }, 'name'],
    ['name with a byte-order mark', { name: '\ufeffsvc' }, 'name'],
    ['name with a soft hyphen', { name: 'print\u00ader' }, 'name'],
    ['name with a tag character', { name: 'svc\u{e0001}' }, 'name'],
    ['instance_id', { instance_id: 'i\u200d1' }, 'instance_id'],
    ['type', { type: 'http\u2060' }, 'type'],
    ['a tag', { tags: ['ok', 'pr\u200bod'] }, 'tags'],
  ])('%s is refused, naming the field', (_label, patch, field) => {
    const errors = register(patch);
    expect(Object.keys(errors)).toEqual([field]);
    expect(errors[field]).toBe(FORMAT_MESSAGE);
  });

  it('metadata and TXT keys with format characters are refused, the key shown escaped', () => {
    expect(register({ metadata: { 'ra\u200bck': 'x' } })).toEqual({
      metadata: 'key "ra\\u200bck" must not contain invisible format characters or line separators',
    });
    expect(register({ mdns_txt_records: { 'k\u202e': 'v' } })).toEqual({
      mdns_txt_records: 'key "k\\u202e" must not contain invisible format characters or line separators',
    });
    // Values are free text, left as sent.
    const body = { name: 'svc', host: '10.0.0.1', port: 80, metadata: { note: 'x\u202ey\u2028' }, mdns_txt_records: { k: '\u200b' } };
    expect(validateInput(RegisterServiceDto, body).ok).toBe(true);
  });

  it('a tag with a control character is named as one even after a tag with a format character', () => {
    expect(register({ tags: ['a\u0000'] })).toEqual({ tags: 'must not contain control characters (U+0000–U+001F, U+007F–U+009F)' });
    expect(register({ tags: ['ok', 'b\u200b', 'c\u0000'] })).toEqual({ tags: FORMAT_MESSAGE });
  });

  it('ordinary Unicode names, tags and ids stay accepted', () => {
    const body = {
      name: 'Küche-Sensor 1',
      host: '10.0.0.1',
      port: 80,
      tags: ['étage-2', '温度', 'שלום', '👍🏽'],
      instance_id: 'esp32-ä1',
      type: 'iot',
    };
    expect(validateInput(RegisterServiceDto, body).ok).toBe(true);
  });

  it.each(['_beacon._tcp', '_beacon._udp', '_beacon-server._tcp'])('mdns_service_type %s is reserved', (type) => {
    expect(register({ mdns_service_type: type })).toEqual({
      mdns_service_type: `"${type}" is reserved: it is how devices and nodes find Beacon itself; choose another type`,
    });
    expect(messages(validateInput(UpdateServiceDto, { mdns_service_type: type }))).toHaveProperty('mdns_service_type');
  });

  it.each(['http://user:pass@10.0.0.1/health', 'http://admin@10.0.0.1/', 'https://:secret@example.com/'])(
    'health_check_url %s carries credentials and is refused, saying why',
    (url) => {
      expect(register({ health_check_url: url })).toEqual({
        health_check_url:
          'must not contain credentials (user:password@): it is stored and shown to everyone who can read the catalog; keep secrets out of it',
      });
      expect(messages(validateInput(UpdateServiceDto, { health_check_url: url }))).toHaveProperty('health_check_url');
    },
  );

  it('a URL with "@" only in its path or query is no credential', () => {
    const body = { name: 'svc', host: '10.0.0.1', port: 80, health_check_url: 'http://10.0.0.1/health?owner=a@b' };
    expect(validateInput(RegisterServiceDto, body).ok).toBe(true);
  });
});
