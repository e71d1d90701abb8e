import { HEALTH_STATES, SERVICE_STATUSES } from './enums';
import { fieldsWhere, openApiSchemaOf, type Equal, type FieldSpec, type FieldsWith, type WireRecord } from './record-fields';
import type { UpdateServiceDto } from './service.dto';

/**
 * The service record, declared once: `Service` (the wire type), its OpenAPI schema, the
 * fields a partial update may set and registry-api's conversions all derive from this table.
 * Field names are seed 000's (snake_case); timestamps are ISO 8601 UTC on the wire. Its
 * order is the order of the keys in every JSON body.
 */
export const SERVICE_FIELDS = {
  service_id: { kind: 'uuid' },
  name: { kind: 'string', patchable: true },
  type: { kind: 'string', patchable: true },
  host: { kind: 'string', patchable: true },
  port: { kind: 'integer', patchable: true },
  protocol: { kind: 'string', patchable: true },
  tags: { kind: 'string-list', patchable: true },
  metadata: { kind: 'string-map', patchable: true },
  version: { kind: 'string', nullable: true, patchable: true },
  node_id: { kind: 'string', nullable: true, patchable: true },
  instance_id: { kind: 'string', nullable: true },
  /** The effective status: a record past `expires_at` reads `expired` (set through `PUT` by its own rule). */
  status: { kind: 'enum', values: SERVICE_STATUSES, description: 'effective: past expires_at reads expired' },
  health: { kind: 'enum', values: HEALTH_STATES },
  ttl: { kind: 'integer', patchable: true },
  expires_at: { kind: 'timestamp' },
  last_heartbeat: { kind: 'timestamp', nullable: true },
  created_at: { kind: 'timestamp' },
  updated_at: { kind: 'timestamp' },
  health_check_url: { kind: 'string', nullable: true, patchable: true },
  health_check_tcp: { kind: 'string', nullable: true, patchable: true },
  health_check_interval: { kind: 'integer', patchable: true },
  health_check_timeout: { kind: 'integer', patchable: true },
  health_check_retries: { kind: 'integer', patchable: true },
  health_check_rise: { kind: 'integer', patchable: true },
  last_health_check: { kind: 'timestamp', nullable: true },
  consecutive_health_failures: { kind: 'integer' },
  /** Last `load_percentage` a health check reported (seed 004), 0.0–1.0. */
  load: { kind: 'number', nullable: true },
  mdns_service_type: { kind: 'string', patchable: true, example: '_http._tcp' },
  mdns_txt_records: { kind: 'string-map', patchable: true },
  /** Catalog-wide revision of the last change to this record. */
  revision: { kind: 'integer' },
} as const satisfies Record<string, FieldSpec>;

/**
 * A service as it appears on the wire: REST bodies, event payloads, snapshots.
 * `status` is the effective status: a record past `expires_at` reads `expired`.
 */
export type Service = WireRecord<typeof SERVICE_FIELDS>;

/** The fields `PUT /services/{id}` copies from its body (`status` has a rule of its own). */
export type PatchableField = FieldsWith<typeof SERVICE_FIELDS, 'patchable'>;

export const PATCHABLE_FIELDS = fieldsWhere(SERVICE_FIELDS, (spec) => spec.patchable === true) as PatchableField[];

// Compile-time check: the patchable fields are exactly what `UpdateServiceDto` accepts besides `status`.
true satisfies Equal<PatchableField, Exclude<keyof UpdateServiceDto, 'status'>>;

/** `Service` as an OpenAPI 3.0 schema (`components.schemas.Service`). */
export const SERVICE_SCHEMA = openApiSchemaOf(SERVICE_FIELDS);
