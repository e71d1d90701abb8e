import { HEALTH_STATES, SERVICE_SCHEMA, SERVICE_STATUSES } from '@beacon/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { getMetadataStorage } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): SchemaObject => ({ type, nullable: true });

const LIST_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    services: { type: 'array', items: ref('Service') },
    total: { type: 'integer' },
    page: { type: 'integer' },
    page_size: { type: 'integer' },
  },
};

const countsOf = (keys: readonly string[]): SchemaObject => ({
  type: 'object',
  properties: Object.fromEntries(keys.map((key) => [key, { type: 'integer' }])),
  required: [...keys],
});

/** Seed 004's instance view (`/v1/discovery`). */
const DISCOVERY_INSTANCE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    service_id: { type: 'string', format: 'uuid', description: 'the same record as /api/v1/services/{service_id}' },
    service_name: { type: 'string' },
    instance_id: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'integer' },
    health_endpoint: { ...nullable('string'), description: 'the registered path; null without a check or for a URL set through /api/v1 elsewhere' },
    health_check_url: nullable('string'),
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    status: { type: 'string', enum: [...SERVICE_STATUSES] },
    health: { type: 'string', enum: [...HEALTH_STATES] },
    healthy: { type: 'boolean', description: 'listed by /services/{service_name}/healthy' },
    load_percentage: { ...nullable('number'), description: 'last load_percentage a check reported, 0.0–1.0' },
    registered_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    last_heartbeat: { type: 'string', format: 'date-time', nullable: true },
    last_health_check: { type: 'string', format: 'date-time', nullable: true },
    expires_at: { type: 'string', format: 'date-time' },
    ttl: { type: 'integer' },
  },
};

const DISCOVERY_SERVICES_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    services: { type: 'object', additionalProperties: { type: 'array', items: ref('DiscoveryInstance') }, description: 'instances by service name' },
    total_services: { type: 'integer' },
    total_instances: { type: 'integer' },
  },
};

const DISCOVERY_INSTANCES_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    service_name: { type: 'string' },
    instances: { type: 'array', items: ref('DiscoveryInstance') },
    total: { type: 'integer' },
  },
};

const DISCOVERY_HEARTBEAT_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    message: { type: 'string', example: 'Heartbeat received successfully' },
    service_id: { type: 'string', format: 'uuid' },
    service_name: { type: 'string' },
    instance_id: { type: 'string' },
    status: { type: 'string', enum: [...SERVICE_STATUSES] },
    expires_at: { type: 'string', format: 'date-time' },
    last_heartbeat: { type: 'string', format: 'date-time' },
  },
};

const DISCOVERY_UNREGISTER_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    message: { type: 'string', example: 'Service unregistered successfully' },
    service_id: { type: 'string', format: 'uuid' },
    service_name: { type: 'string' },
    instance_id: { type: 'string' },
  },
};

const STATS_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    revision: { type: 'integer', description: 'catalog revision the counts were read at (or after)' },
    services: {
      type: 'object',
      properties: {
        total: { type: 'integer' },
        by_status: { ...countsOf(SERVICE_STATUSES), description: 'effective status; every status present' },
        by_health: { ...countsOf(HEALTH_STATES), description: 'last observed health; every state present' },
        by_type: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    },
    checks_last_minute: { type: 'integer', description: 'stored check results with checked_at in the last 60 s (store-backed)' },
    events_last_minute: {
      type: 'integer',
      description: "catalog events (beacon.events.service.*, every replica's) this replica received in the last 60 s; counted in memory since it started",
    },
    generated_at: { type: 'string', format: 'date-time' },
  },
};

const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
};

/** Request bodies and success responses by operation (the scanner only sees paths and parameters). */
const OPERATIONS: Record<
  string,
  { body?: string; response?: SchemaObject | { $ref: string }; summary: string; /** Nothing to validate: no 400. */ noInput?: boolean }
> = {
  ServicesController_register: {
    body: 'RegisterServiceDto',
    response: ref('Service'),
    summary: 'Register a service (re-registering the same name+host+port or name+instance_id updates it; 201 either way)',
  },
  ServicesController_heartbeat: { summary: 'Extend the TTL (optional ?ttl=); 404 means register again' },
  ServicesController_list: { response: ref('ServiceList'), summary: 'List services; filters: type, tags, protocol, status, name, version, health, node_id, metadata.<key>' },
  ServicesController_discover: { summary: 'Discover connectable services (default status=active)' },
  ServicesController_discoverByBody: { body: 'ServiceFilterDto', summary: 'Discover with the filter in the body' },
  ServicesController_types: { summary: 'All service types' },
  ServicesController_tags: { summary: 'All tags' },
  ServicesController_expired: { summary: 'Expired services' },
  ServicesController_cleanup: { summary: 'Delete every expired service now' },
  ServicesController_get: { response: ref('Service'), summary: 'One service' },
  ServicesController_status: { response: ref('Service'), summary: 'One service (status view)' },
  ServicesController_update: { body: 'UpdateServiceDto', response: ref('Service'), summary: 'Partial update; null clears optional fields' },
  ServicesController_deregister: { summary: 'Deregister (204)' },
  ServicesController_healthChecks: { summary: 'Recent health checks, newest first (?limit=, default 20)' },
  ServicesController_checkNow: { summary: 'Check now through health-prober; answers the result and the updated service' },
  StatsController_stats: {
    response: ref('RegistryStats'),
    summary: 'Registry statistics: counts by status, health and type, checks and events of the last minute, revision',
    noInput: true,
  },
  DiscoveryController_register: {
    body: 'DiscoveryRegisterDto',
    response: ref('DiscoveryInstance'),
    summary:
      'Seed 004: register an instance (200; re-registering the same service_name + instance_id updates it). ' +
      'health_endpoint is probed at http://host:port + path',
  },
  DiscoveryController_heartbeat: {
    body: 'DiscoveryHeartbeatDto',
    response: ref('DiscoveryHeartbeat'),
    summary: 'Seed 004: renew an instance (as PUT /api/v1/services/{id}/heartbeat); 404 when not registered',
  },
  DiscoveryController_unregister: {
    response: ref('DiscoveryUnregister'),
    summary: 'Seed 004: remove an instance (200 with a body); 404 when not registered',
    noInput: true,
  },
  DiscoveryController_services: {
    response: ref('DiscoveryServices'),
    summary: 'Seed 004: every live instance (with an instance_id, not expired), by service name',
    noInput: true,
  },
  DiscoveryController_instances: {
    response: ref('DiscoveryInstances'),
    summary: "Seed 004: one service's live instances (200 with none when unknown)",
    noInput: true,
  },
  DiscoveryController_healthy: {
    response: ref('DiscoveryInstances'),
    summary:
      'Seed 004: instances that are active, whose last check passed as healthy and whose load is under CRITICAL_LOAD_THRESHOLD ' +
      '(without a health_endpoint: healthy while active)',
    noInput: true,
  },
};

function describeOperations(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const operation of [path.get, path.post, path.put, path.delete]) {
      const described = operation?.operationId ? OPERATIONS[operation.operationId] : undefined;
      if (!operation || !described) continue;
      operation.summary = described.summary;
      if (described.body) {
        operation.requestBody = { required: true, content: { 'application/json': { schema: ref(described.body) } } };
      }
      const success = Object.keys(operation.responses).find((code) => code.startsWith('2')) ?? '200';
      if (described.response) {
        operation.responses[success] = { description: 'OK', content: { 'application/json': { schema: described.response } } };
      }
      if (!described.noInput) {
        operation.responses['400'] = { description: 'Invalid input (each bad field named)', content: { 'application/json': { schema: ref('Error') } } };
      }
    }
  }
}

/** OpenAPI at `/api/docs` (UI) and `/api/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('Beacon registry API')
    .setDescription(
      'Service registration and discovery: seed 000 contract under /api/v1, seed 004 compatibility under /v1/discovery. ' +
        'Mutations need a bearer token when BEACON_AUTH_TOKEN (or SERVICE_DISCOVERY_SECRET) is set.',
    )
    .setVersion(version)
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const validationSchemas = validationMetadatasToSchemas({
    classValidatorMetadataStorage: getMetadataStorage(),
    refPointerPrefix: '#/components/schemas/',
  }) as Record<string, SchemaObject>;
  document.components = {
    ...document.components,
    schemas: {
      ...validationSchemas,
      // The response shape, from the record's declaration; request schemas come from the validation rules themselves.
      Service: SERVICE_SCHEMA,
      ServiceList: LIST_SCHEMA,
      Error: ERROR_SCHEMA,
      RegistryStats: STATS_SCHEMA,
      DiscoveryInstance: DISCOVERY_INSTANCE_SCHEMA,
      DiscoveryServices: DISCOVERY_SERVICES_SCHEMA,
      DiscoveryInstances: DISCOVERY_INSTANCES_SCHEMA,
      DiscoveryHeartbeat: DISCOVERY_HEARTBEAT_SCHEMA,
      DiscoveryUnregister: DISCOVERY_UNREGISTER_SCHEMA,
    },
  };
  describeOperations(document);
  SwaggerModule.setup('api/docs', app, document);
}
