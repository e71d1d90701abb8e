import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { compilePlan, satisfiesPlan } from './compiled-validation';
import { ExpireRequest, PurgeRequest, SnapshotRequest, SweepRequest } from './registry-requests';
import { HeartbeatQueryDto, PageQueryDto, RegisterServiceDto, ServiceFilterDto, ServiceQueryDto, UpdateServiceDto } from './service.dto';

/** Values that are valid for some fields and wrong for others: the mix finds disagreements. */
const VALUES: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'x',
  'svc-1',
  'a'.repeat(101),
  'http://10.0.0.1:8080/health',
  'ftp://x',
  'javascript:alert(1)',
  '10.0.0.1',
  '::1',
  '[fe80::1]',
  'host.local',
  'http://x',
  'db.local:5432',
  'db:0',
  '_http._tcp',
  '_Bad._tcp',
  'active',
  'inactive',
  'expired',
  'healthy',
  'bogus',
  '2030-01-01T00:00:00.000Z',
  'soon',
  '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
  '8080',
  '80a',
  '-1',
  '0',
  '10',
  '300',
  '86401',
  0,
  1,
  5,
  9,
  10,
  80,
  300,
  3600,
  65535,
  65536,
  86400,
  86401,
  -1,
  1.5,
  Number.NaN,
  true,
  false,
  [],
  ['a'],
  ['a', 'b'],
  ['a,b'],
  [''],
  [1],
  ['x'.repeat(101)],
  {},
  { a: 'b' },
  { a: 1 },
  { $ne: '' },
  { k: 'x'.repeat(1025) },
  Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, 'v'])),
];

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** Each class with a valid input to mutate: most random inputs are invalid from the start. */
const CLASSES: [ClassConstructor<object>, Record<string, unknown>][] = [
  [RegisterServiceDto, { name: 'svc', host: '10.0.0.1', port: 80, tags: ['a'], metadata: { k: 'v' }, ttl: 300 }],
  [UpdateServiceDto, { version: '1.0', ttl: 60 }],
  [HeartbeatQueryDto, { ttl: 30 }],
  [ServiceFilterDto, { type: 'http', tags: ['a'] }],
  [ServiceQueryDto, { type: 'http', limit: 10 }],
  [PageQueryDto, { limit: 10, skip: 0 }],
  [SnapshotRequest, { limit: 10 }],
  [ExpireRequest, { service_id: '3f2504e0-4f89-11d3-9a0c-0305e82c3301', expires_at: '2030-01-01T00:00:00.000Z' }],
  [SweepRequest, {}],
  [PurgeRequest, { older_than: '2030-01-01T00:00:00.000Z' }],
];

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

describe('compiled validation plans', () => {
  for (const [cls, base] of CLASSES) {
    it(`agree with class-validator on random ${cls.name} inputs`, () => {
      const plan = compilePlan(cls);
      expect(plan, `${cls.name} should compile`).not.toBeNull();
      if (!plan) return;
      const next = random(cls.name.length * 7919);
      const fields = [...plan.allowed];
      let valid = 0;
      for (let round = 0; round < 4000; round += 1) {
        // Half the rounds change a few fields of a valid input, half are random throughout.
        const input: Record<string, unknown> = next() < 0.5 ? { ...base } : {};
        const changes = Object.keys(input).length > 0 ? Math.floor(next() * 3) : fields.length;
        for (let change = 0; change < changes; change += 1) {
          const field = fields[Math.floor(next() * fields.length)] as string;
          if (Object.keys(input).length > 0 || next() < 0.6) input[field] = VALUES[Math.floor(next() * VALUES.length)];
        }
        if (next() < 0.05) input.unexpected = 'x';
        const instance = plainToInstance(cls, input);
        const expected = validateSync(instance, OPTIONS).length === 0;
        if (expected) valid += 1;
        expect(satisfiesPlan(plan, instance), `${cls.name} ${JSON.stringify(input)}`).toBe(expected);
      }
      // Both outcomes must actually occur, or the comparison proves little.
      expect(valid).toBeGreaterThan(0);
      expect(valid).toBeLessThan(4000);
    });
  }

  it('accepts a complete valid registration and rejects each single bad field', () => {
    const plan = compilePlan(RegisterServiceDto) as NonNullable<ReturnType<typeof compilePlan>>;
    const good = {
      name: 'svc',
      host: '10.0.0.1',
      port: 8080,
      tags: ['a'],
      metadata: { k: 'v' },
      ttl: 300,
      health_check_url: 'http://10.0.0.1/h',
    };
    expect(satisfiesPlan(plan, plainToInstance(RegisterServiceDto, good))).toBe(true);
    for (const bad of [{ port: 0 }, { ttl: 5 }, { host: 'http://x' }, { tags: ['a,b'] }, { metadata: { $x: 'y' } }, { extra: 1 }]) {
      expect(satisfiesPlan(plan, plainToInstance(RegisterServiceDto, { ...good, ...bad })), JSON.stringify(bad)).toBe(false);
    }
  });
});
