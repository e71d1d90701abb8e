import { describe, expect, it } from 'vitest';
import { fieldsWhere, migrationDefaults, openApiSchemaOf, type FieldSpec } from './record-fields';
import { SERVICE_FIELDS, SERVICE_SCHEMA } from './service';

const TABLE = {
  id: { kind: 'uuid' },
  seen_at: { kind: 'timestamp', nullable: true },
  mode: { kind: 'enum', values: ['a', 'b'], patchable: true, description: 'how' },
  labels: { kind: 'string-map', patchable: true },
  armed: { kind: 'boolean', migrationDefault: false },
} as const satisfies Record<string, FieldSpec>;

describe('a record declared as a field table', () => {
  it('gives an OpenAPI schema with every field required, nullable where it may be null', () => {
    expect(openApiSchemaOf(TABLE)).toEqual({
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        seen_at: { type: 'string', format: 'date-time', nullable: true },
        mode: { type: 'string', enum: ['a', 'b'], description: 'how' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        armed: { type: 'boolean' },
      },
      required: ['id', 'seen_at', 'mode', 'labels', 'armed'],
    });
  });

  it('gives the fields with a property, and the migration defaults', () => {
    expect(fieldsWhere(TABLE, (spec) => spec.patchable === true)).toEqual(['mode', 'labels']);
    expect(migrationDefaults(TABLE)).toEqual({ armed: false });
  });

  it('describes Service field by field, in the wire order', () => {
    expect(Object.keys(SERVICE_SCHEMA.properties)).toEqual(Object.keys(SERVICE_FIELDS));
    expect(SERVICE_SCHEMA.required).toEqual(Object.keys(SERVICE_FIELDS));
    expect(SERVICE_SCHEMA.properties.last_heartbeat).toEqual({ type: 'string', format: 'date-time', nullable: true });
    expect(SERVICE_SCHEMA.properties.status.enum).toEqual(['active', 'inactive', 'expired', 'unhealthy']);
    expect(SERVICE_SCHEMA.properties.metadata).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
  });
});
