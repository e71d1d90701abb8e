/**
 * A record declared once, as a table of fields: its TypeScript type, its OpenAPI schema,
 * its conversions and its update rules are all derived from the table, so a field is
 * added, renamed or retyped in one place.
 */

/** How a field travels in JSON. `timestamp` is ISO 8601 UTC text on the wire (epoch ms in a store). */
export type WireKind = 'string' | 'uuid' | 'integer' | 'number' | 'boolean' | 'string-list' | 'string-map' | 'timestamp' | 'enum';

export interface FieldSpec {
  readonly kind: WireKind;
  /** The allowed values of an `enum`. */
  readonly values?: readonly string[];
  readonly nullable?: boolean;
  /** A partial update (`PUT /services/{id}`) may set it directly. */
  readonly patchable?: boolean;
  /** What a stored record written before the field existed reads as. */
  readonly migrationDefault?: string | number | boolean;
  readonly description?: string;
  readonly example?: string;
}

export type FieldTable = Readonly<Record<string, FieldSpec>>;

/** The TypeScript value of each kind, as a JSON client sees it. */
interface KindValue {
  string: string;
  uuid: string;
  integer: number;
  number: number;
  boolean: boolean;
  'string-list': string[];
  'string-map': Record<string, string>;
  timestamp: string;
  enum: never;
}

type OrNull<F extends FieldSpec, T> = F extends { nullable: true } ? T | null : T;

type WireValue<F extends FieldSpec> = OrNull<F, F extends { kind: 'enum'; values: readonly (infer V)[] } ? V : KindValue[F['kind']]>;

/** A stored value: the wire's, except timestamps as epoch milliseconds. */
type StoredValue<F extends FieldSpec> = F extends { kind: 'timestamp' } ? OrNull<F, number> : WireValue<F>;

/** The record as JSON carries it. */
export type WireRecord<T extends FieldTable> = { -readonly [K in keyof T]: WireValue<T[K]> };

/** The record as a store keeps it (timestamps as epoch milliseconds). */
export type StoredRecord<T extends FieldTable> = { -readonly [K in keyof T]: StoredValue<T[K]> };

/** Names of the fields whose spec has `P: true`. */
export type FieldsWith<T extends FieldTable, P extends 'patchable' | 'nullable'> = {
  [K in keyof T]: T[K] extends { [Q in P]: true } ? K : never;
}[keyof T] &
  string;

export function fieldsWhere<T extends FieldTable>(table: T, test: (spec: FieldSpec) => boolean): (keyof T & string)[] {
  return Object.keys(table).filter((name) => test(table[name] as FieldSpec));
}

/** The fields that have a `migrationDefault`, with it. */
export function migrationDefaults<T extends FieldTable>(table: T): Partial<Record<keyof T & string, string | number | boolean>> {
  const defaults: Partial<Record<string, string | number | boolean>> = {};
  for (const [name, spec] of Object.entries(table)) if (spec.migrationDefault !== undefined) defaults[name] = spec.migrationDefault;
  return defaults;
}

/** OpenAPI 3.0 schema of each kind (an enum adds its values). */
const SCHEMA_OF_KIND = {
  string: { type: 'string' },
  uuid: { type: 'string', format: 'uuid' },
  integer: { type: 'integer' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  'string-list': { type: 'array', items: { type: 'string' } },
  'string-map': { type: 'object', additionalProperties: { type: 'string' } },
  timestamp: { type: 'string', format: 'date-time' },
  enum: { type: 'string' },
} as const satisfies Record<WireKind, object>;

/** An OpenAPI schema object, as far as Beacon's documents use it. */
export interface OpenApiSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  format?: string;
  enum?: string[];
  nullable?: boolean;
  items?: OpenApiSchema | { $ref: string };
  properties?: Record<string, OpenApiSchema | { $ref: string }>;
  additionalProperties?: OpenApiSchema | { $ref: string } | boolean;
  required?: string[];
  description?: string;
  example?: unknown;
}

export interface RecordSchema<T extends FieldTable> extends OpenApiSchema {
  type: 'object';
  properties: { [K in keyof T]: OpenApiSchema };
  required: (keyof T & string)[];
}

/** The record's OpenAPI schema: every field present (required), `nullable` where it may be null. */
export function openApiSchemaOf<T extends FieldTable>(table: T): RecordSchema<T> {
  const properties: Record<string, OpenApiSchema> = {};
  for (const [name, spec] of Object.entries(table)) {
    properties[name] = {
      ...SCHEMA_OF_KIND[spec.kind],
      ...(spec.values ? { enum: [...spec.values] } : {}),
      ...(spec.nullable ? { nullable: true } : {}),
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.example ? { example: spec.example } : {}),
    };
  }
  return { type: 'object', properties: properties as RecordSchema<T>['properties'], required: Object.keys(table) };
}

/** The TypeScript type a JSON client reads from an OpenAPI schema (the subset `SCHEMA_OF_KIND` uses). */
type FromSchema<S> = S extends { type: 'string' }
  ? string
  : S extends { type: 'integer' | 'number' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { type: 'array'; items: infer I }
        ? FromSchema<I>[]
        : S extends { type: 'object'; additionalProperties: infer A }
          ? Record<string, FromSchema<A>>
          : never;

/** Exactly the same type (not merely assignable either way). */
export type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

// Compile-time check: each kind's schema describes the TypeScript value the record's type gives it.
true satisfies Equal<{ [K in Exclude<WireKind, 'enum'>]: FromSchema<(typeof SCHEMA_OF_KIND)[K]> }, Omit<KindValue, 'enum'>>;
