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
