import { MAX_BODY_BYTES, RESERVED_MDNS_SERVICE_TYPES, type StringMapLimits } from '@beacon/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { getMetadataStorage } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { NDJSON } from './export/export-lines';
import { RESPONSE_SCHEMAS, ref } from './openapi-schemas';
import { WEBHOOK_OPERATIONS, WEBHOOK_SCHEMAS } from './webhooks/webhooks.openapi';

/** What an operation answers besides its success: the refusals its route can give. */
type Refusal = 404 | 409 | 410 | 429 | 503 | 504;

interface Operation {
  summary: string;
  /** Request body schema (a validation class). */
  body?: string;
  /** Success status (default 200) and its schema; none for 204, `text` for Prometheus' exposition format. */
  status?: 200 | 201 | 204;
  /** A schema name, `text` for a plain-text body, or `ndjson` for JSON lines (the export). */
  response?: string;
  /** The body is JSON lines (`application/x-ndjson`, the export) with its own size limit. */
  ndjsonBody?: boolean;
  refusals?: readonly Refusal[];
  /** The refusals' descriptions where the defaults (about services) do not fit. */
  refusalTexts?: Partial<Record<Refusal, string>>;
  /** The 413's description where the route has its own body limit. */
  bodyLimit?: string;
  /** Nothing to validate: no 400. */
  noInput?: boolean;
  /** Open without a token (`@Access('public')`): no 401. */
  public?: boolean;
  /** Also answered with its success schema under 503 (health and readiness while a dependency is down). */
  unavailableToo?: boolean;
}

const SERVICE_ROUTE: Pick<Operation, 'refusals' | 'noInput'> = { refusals: [404], noInput: true };

/** Every route's documentation, by Nest's operation id; test/openapi.test.ts fails on a route left out. */
const OPERATIONS: Record<string, Operation> = {
  ServicesController_register: {
    body: 'RegisterServiceDto',
    status: 201,
    response: 'Service',
    summary: 'Register a service (re-registering the same name+host+port or name+instance_id updates it; 201 either way)',
  },
  ServicesController_heartbeat: {
    response: 'Heartbeat',
    refusals: [404, 410],
    summary:
      'Extend the TTL (optional ?ttl=); 404 means unknown (never registered, or expired and purged): register again; ' +
      '410 means an operator deleted it (BEACON_TOMBSTONE_TTL): stop, do not register again unless told to',
  },
  ServicesController_list: {
    response: 'ServiceList',
    summary: 'List services; filters: type, tags, protocol, status, name, version, health, node_id, metadata.<key>',
  },
  ServicesController_discover: { response: 'Discover', summary: 'Discover connectable services (default status=active)' },
  ServicesController_discoverByBody: { body: 'ServiceFilterDto', response: 'Discover', summary: 'Discover with the filter in the body' },
  ServicesController_types: { response: 'StringList', noInput: true, summary: 'All service types' },
  ServicesController_tags: { response: 'StringList', noInput: true, summary: 'All tags' },
  ServicesController_expired: { response: 'ExpiredList', summary: 'Expired services' },
  ServicesController_cleanup: { response: 'Cleanup', noInput: true, summary: 'Delete every expired service now' },
  ServicesController_get: { ...SERVICE_ROUTE, response: 'Service', summary: 'One service' },
  ServicesController_status: { ...SERVICE_ROUTE, response: 'Service', summary: 'One service (status view)' },
  ServicesController_update: {
    body: 'UpdateServiceDto',
    response: 'Service',
    refusals: [404, 409],
    summary: 'Partial update; null clears optional fields (409: the new identity is taken, or a status change of an expired service)',
  },
  ServicesController_deregister: { ...SERVICE_ROUTE, status: 204, summary: 'Deregister (204)' },
  ServicesController_healthChecks: {
    response: 'HealthChecks',
    refusals: [404],
    summary: 'Recent health checks, newest first (?limit=, default 20)',
  },
  ServicesController_checkNow: {
    response: 'CheckNow',
    refusals: [404, 409, 503, 504],
    noInput: true,
    summary:
      'Check now through health-prober; answers the result and the updated service ' +
      '(409: nothing to check; 503: no prober, or it could not check; 504: it did not answer in time)',
  },
  StatsController_stats: {
    response: 'RegistryStats',
    noInput: true,
    summary: 'Registry statistics: counts by status, health and type, checks and events of the last minute, revision',
  },
  DiscoveryController_register: {
    body: 'DiscoveryRegisterDto',
    response: 'DiscoveryInstance',
    summary:
      'Seed 004: register an instance (200; re-registering the same service_name + instance_id updates it). ' +
      'health_endpoint is probed at http://host:port + path',
  },
  DiscoveryController_heartbeat: {
    body: 'DiscoveryHeartbeatDto',
    response: 'DiscoveryHeartbeat',
    refusals: [404, 410],
    summary:
      'Seed 004: renew an instance (as PUT /api/v1/services/{id}/heartbeat); 404 when not registered, 410 when an operator unregistered it',
  },
  DiscoveryController_unregister: {
    response: 'DiscoveryUnregister',
    ...SERVICE_ROUTE,
    summary: 'Seed 004: remove an instance (200 with a body); 404 when not registered',
  },
  DiscoveryController_services: {
    response: 'DiscoveryServices',
    noInput: true,
    summary: 'Seed 004: every live instance (with an instance_id, not expired), by service name',
  },
  DiscoveryController_instances: {
    response: 'DiscoveryInstances',
    noInput: true,
    summary: "Seed 004: one service's live instances (200 with none when unknown)",
  },
  DiscoveryController_healthy: {
    response: 'DiscoveryInstances',
    noInput: true,
    summary:
      'Seed 004: instances that are active, whose last check passed as healthy and whose load is under CRITICAL_LOAD_THRESHOLD ' +
      '(without a health_endpoint: healthy while active)',
  },
  RegistryHealthController_healthReport: {
    response: 'RegistryHealth',
    noInput: true,
    public: true,
    unavailableToo: true,
    summary: "Seed 000's health report: catalog counts, store, NATS, mDNS, memory (503 while the store is unreachable)",
  },
  RegistryHealthController_ready: {
    response: 'Readiness',
    noInput: true,
    public: true,
    unavailableToo: true,
    summary: 'Ready to serve (NATS and store)',
  },
  RegistryHealthController_live: { response: 'Alive', noInput: true, public: true, summary: 'The process is alive' },
  ExportController_export: {
    response: 'ndjson',
    noInput: true,
    summary:
      'The whole catalog as JSON lines, streamed: a header (revision), every record as stored, check histories, ' +
      'tombstones (services deleted by an operator, still remembered), an end line. ' +
      'Guarded like a write whenever a token is set (it holds everything)',
  },
  ExportController_import: {
    ndjsonBody: true,
    response: 'ImportResult',
    refusals: [409],
    summary:
      'Load an export, all or nothing (400 names the bad line). Into an empty store only (409), unless ?merge=true: ' +
      'then records are upserted by service_id under new revisions. Publishes no events: consumers catch up at their next resync',
  },
  HealthController_liveness: { response: 'Liveness', noInput: true, public: true, summary: 'Liveness' },
  HealthController_readiness: {
    response: 'Readiness',
    noInput: true,
    public: true,
    unavailableToo: true,
    summary: 'Readiness (NATS and store)',
  },
  HealthController_scrape: {
    response: 'text',
    noInput: true,
    summary: 'Prometheus metrics (text exposition format; a read: guarded with BEACON_AUTH_READS=true)',
  },
  ...WEBHOOK_OPERATIONS,
  IncidentsController_list: {
    response: 'IncidentList',
    summary: 'Incidents, newest first; filters: status=open|resolved, service_id, kind, since (ISO); limit (default 50, max 500), skip',
  },
  IncidentsController_get: {
    response: 'Incident',
    refusals: [404],
    noInput: true,
    refusalTexts: { 404: 'No such incident' },
    summary: 'One incident',
  },
  IncidentsController_resolve: {
    body: 'IncidentNoteDto',
    response: 'Incident',
    refusals: [404, 409],
    refusalTexts: { 404: 'No such incident', 409: 'The incident is already resolved' },
    summary: 'Resolve an open incident by hand (optional note, up to 500 characters)',
  },
  IncidentsController_acknowledge: {
    body: 'IncidentNoteDto',
    response: 'Incident',
    refusals: [404, 409],
    refusalTexts: { 404: 'No such incident', 409: 'The incident is resolved or already acknowledged' },
    summary: 'Acknowledge an open incident: it stays open, its reminders stop (optional note)',
  },
  UptimeController_service: {
    response: 'Uptime',
    refusals: [404],
    summary: 'Uptime % over 1h/24h/7d/30d and the windows of ?from=&to= (ISO; default the last 24 h, at most BEACON_UPTIME_RETENTION)',
  },
  UptimeController_pings: {
    response: 'Pings',
    refusals: [404],
    summary: 'Raw check results, newest first (?limit= default 100, up to BEACON_PINGS_PER_SERVICE; ?since= ISO)',
  },
  UptimeController_overview: {
    response: 'UptimeOverview',
    summary: "Every service's last ?windows= (default 90, max 288) windows' availability and p50, and its 24 h uptime",
  },
  UptimeController_statusPage: {
    response: 'StatusPage',
    refusals: [404],
    noInput: true,
    refusalTexts: { 404: 'The status page is off (BEACON_STATUS_PAGE=off)' },
    summary: 'The status page: services tagged public (or all, BEACON_STATUS_PAGE), 90 daily availabilities each, their open incidents',
  },
};

/** `POST /api/v1/import`'s answer (`ImportResult` in export/export.service.ts). */
const IMPORT_RESULT: SchemaObject = {
  type: 'object',
  properties: {
    services: { type: 'integer', description: 'service records in the file' },
    checks: { type: 'integer', description: 'check history entries in the file' },
    tombstones: { type: 'integer', description: 'tombstones in the file still in force (expired ones are skipped)' },
    created: { type: 'integer', description: 'records that were not in the store' },
    replaced: { type: 'integer', description: 'records that replaced one with the same service_id (merge)' },
    revision: { type: 'integer', description: 'the catalog revision after the import' },
    merge: { type: 'boolean' },
  },
  required: ['services', 'checks', 'tombstones', 'created', 'replaced', 'revision', 'merge'],
};

const errorResponse = (description: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

const REFUSALS: Record<Refusal, string> = {
  404: 'No such service (or instance)',
  409: 'Conflicts with the catalog as it is',
  410: 'Gone: an operator deleted this service (its tombstone lasts BEACON_TOMBSTONE_TTL); the detail says when and how. Stop heartbeating; registering again brings it back',
  429: 'A configured limit is reached',
  503: 'A dependency (health-prober) is not available',
  504: 'A dependency (health-prober) did not answer in time',
};

function jsonResponse(description: string, schema: string): ResponseObject {
  return { description, content: { 'application/json': { schema: ref(schema) } } };
}

function successResponse(described: Operation): ResponseObject {
  if (described.status === 204) return { description: 'Done; no body' };
  if (described.response === 'ndjson') return { description: 'OK', content: { [NDJSON]: { schema: { type: 'string' } } } };
  if (described.response === 'text') return { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } };
  return jsonResponse('OK', described.response as string);
}

function describeOperation(operation: OperationObject, described: Operation): void {
  operation.summary = described.summary;
  if (described.body) operation.requestBody = { required: true, content: { 'application/json': { schema: ref(described.body) } } };
  const responses: Record<string, ResponseObject> = { [described.status ?? 200]: successResponse(described) };
  if (!described.noInput) responses['400'] = errorResponse('Invalid input (each bad field named)');
  if (!described.public) {
    responses['401'] = errorResponse('A bearer token is required (BEACON_AUTH_TOKEN is set; reads too with BEACON_AUTH_READS=true)');
    operation.security = [{ bearer: [] }];
  }
  if (described.ndjsonBody) {
    operation.requestBody = {
      required: true,
      content: { [NDJSON]: { schema: { type: 'string', description: 'the lines GET /api/v1/export wrote' } } },
    };
    responses['413'] = errorResponse('Request body is larger than BEACON_IMPORT_MAX_BYTES (default 256 MiB)');
    responses['415'] = errorResponse(`Unsupported Content-Type: send ${NDJSON}`);
  }
  if (described.body) {
    responses['413'] = errorResponse(described.bodyLimit ?? `Request body is larger than ${MAX_BODY_BYTES} bytes`);
    responses['415'] = errorResponse('Unsupported Content-Type: send JSON');
  }
  for (const status of described.refusals ?? []) responses[status] = errorResponse(described.refusalTexts?.[status] ?? REFUSALS[status]);
  if (described.unavailableToo) responses['503'] = jsonResponse('Not ready: a dependency is down', described.response as string);
  operation.responses = responses;
}

function describeOperations(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const operation of [path.get, path.post, path.put, path.delete]) {
      const described = operation?.operationId ? OPERATIONS[operation.operationId] : undefined;
      if (operation && described) describeOperation(operation, described);
    }
  }
}

/** Custom validators as JSON Schema (the generator would otherwise point at a missing `Object` schema). */
const VALIDATOR_SCHEMAS: NonNullable<NonNullable<Parameters<typeof validationMetadatasToSchemas>[0]>['additionalConverters']> = {
  isStringMap: (meta: { constraints?: unknown[] }) => {
    const limits = meta.constraints?.[0] as StringMapLimits;
    return { type: 'object', additionalProperties: { type: 'string', maxLength: limits.maxValueLength }, maxProperties: limits.maxKeys };
  },
  isHostName: { type: 'string', description: 'a host name or an IP address' },
  isHostPort: { type: 'string', description: 'host:port' },
  // `not`, so they add to a field's own `pattern` instead of replacing it.
  noControlCharacters: { not: { pattern: '[\\u0000-\\u001f\\u007f-\\u009f]' } },
  notReservedMdnsType: { not: { enum: [...RESERVED_MDNS_SERVICE_TYPES] } },
  // A URL without user info: the message says why; JSON Schema has no simple way to.
  noUrlCredentials: {},
};

/** The document served at `/api/docs-json`: Nest's scan of the routes, with bodies and answers from the tables. */
export function openApiDocument(app: NestFastifyApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Beacon registry API')
    .setDescription(
      'Service registration and discovery: seed 000 contract under /api/v1, seed 004 compatibility under /v1/discovery. ' +
        'Mutations need a bearer token when BEACON_AUTH_TOKEN (or SERVICE_DISCOVERY_SECRET) is set.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a token of BEACON_AUTH_TOKEN' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const validationSchemas = validationMetadatasToSchemas({
    classValidatorMetadataStorage: getMetadataStorage(),
    refPointerPrefix: '#/components/schemas/',
    additionalConverters: VALIDATOR_SCHEMAS,
  }) as Record<string, SchemaObject>;
  document.components = {
    ...document.components,
    schemas: { ...validationSchemas, ...RESPONSE_SCHEMAS, ...WEBHOOK_SCHEMAS, ImportResult: IMPORT_RESULT },
  };
  describeOperations(document);
  return document;
}

/** OpenAPI at `/api/docs` (UI) and `/api/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication, version: string): void {
  SwaggerModule.setup('api/docs', app, openApiDocument(app, version));
}
