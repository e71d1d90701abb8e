import { SERVICE_STATUSES, HEALTH_STATES } from '@beacon/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { getMetadataStorage } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): SchemaObject => ({ type, nullable: true });

/** The response shape (API-SHAPES.md); request schemas come from the validation rules themselves. */
const SERVICE_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    service_id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    type: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'integer' },
    protocol: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    version: nullable('string'),
    node_id: nullable('string'),
    instance_id: nullable('string'),
    status: { type: 'string', enum: [...SERVICE_STATUSES], description: 'effective: past expires_at reads expired' },
    health: { type: 'string', enum: [...HEALTH_STATES] },
    ttl: { type: 'integer' },
    expires_at: { type: 'string', format: 'date-time' },
    last_heartbeat: { type: 'string', format: 'date-time', nullable: true },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    health_check_url: nullable('string'),
    health_check_tcp: nullable('string'),
    health_check_interval: { type: 'integer' },
    health_check_timeout: { type: 'integer' },
    health_check_retries: { type: 'integer' },
    health_check_rise: { type: 'integer' },
    last_health_check: { type: 'string', format: 'date-time', nullable: true },
    consecutive_health_failures: { type: 'integer' },
    load: nullable('number'),
    mdns_service_type: { type: 'string', example: '_http._tcp' },
    mdns_txt_records: { type: 'object', additionalProperties: { type: 'string' } },
    revision: { type: 'integer' },
  },
};

const LIST_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    services: { type: 'array', items: ref('Service') },
    total: { type: 'integer' },
    page: { type: 'integer' },
    page_size: { type: 'integer' },
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
const OPERATIONS: Record<string, { body?: string; response?: SchemaObject | { $ref: string }; summary: string }> = {
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
      operation.responses['400'] = { description: 'Invalid input (each bad field named)', content: { 'application/json': { schema: ref('Error') } } };
    }
  }
}

/** OpenAPI at `/api/docs` (UI) and `/api/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('Beacon registry API')
    .setDescription('Service registration and discovery (seed 000 contract). Mutations need a bearer token when BEACON_AUTH_TOKEN is set.')
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
    schemas: { ...validationSchemas, Service: SERVICE_SCHEMA, ServiceList: LIST_SCHEMA, Error: ERROR_SCHEMA },
  };
  describeOperations(document);
  SwaggerModule.setup('api/docs', app, document);
}
