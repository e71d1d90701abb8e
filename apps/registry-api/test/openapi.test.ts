import SwaggerParser from '@apidevtools/swagger-parser';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryFixture } from '@beacon/testing';

/**
 * The served `/api/docs-json` as a client generator sees it: valid OpenAPI 3.0, every route
 * documented, and a client generated from it (openapi-typescript) typed exactly as
 * libs/contracts types the same bodies.
 */

interface Operation {
  operationId?: string;
  summary?: string;
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> } & Record<string, unknown>;

const WORKSPACE = resolve(__dirname, '../../..');

/** Each route's answer and the libs/contracts (or platform) type a client should read it as. */
const ANSWERS: [path: string, method: string, status: number, contractType: string][] = [
  ['/api/v1/services/register', 'post', 201, 'C.Service'],
  ['/api/v1/services/{id}/heartbeat', 'put', 200, 'C.HeartbeatResponse'],
  ['/api/v1/services', 'get', 200, 'C.ServiceListResponse'],
  ['/api/v1/services/discover', 'get', 200, 'C.DiscoverResponse'],
  ['/api/v1/services/discover', 'post', 200, 'C.DiscoverResponse'],
  ['/api/v1/services/types', 'get', 200, 'string[]'],
  ['/api/v1/services/tags', 'get', 200, 'string[]'],
  ['/api/v1/services/expired', 'get', 200, 'C.ExpiredListResponse'],
  ['/api/v1/services/cleanup', 'delete', 200, 'C.CleanupResponse'],
  ['/api/v1/services/{id}', 'get', 200, 'C.Service'],
  ['/api/v1/services/{id}', 'put', 200, 'C.Service'],
  ['/api/v1/services/{id}/status', 'get', 200, 'C.Service'],
  ['/api/v1/services/{id}/health-checks', 'get', 200, 'C.HealthChecksResponse'],
  ['/api/v1/services/{id}/health-check', 'post', 200, '{ result: C.ProbeResult; service: C.Service }'],
  ['/api/v1/stats', 'get', 200, 'C.RegistryStatsResponse'],
  ['/api/v1/health', 'get', 200, 'C.RegistryHealthResponse'],
  ['/api/v1/health', 'get', 503, 'C.RegistryHealthResponse'],
  ['/api/v1/ready', 'get', 200, 'P.ReadinessBody'],
  ['/ready', 'get', 503, 'P.ReadinessBody'],
  ['/v1/discovery/register', 'post', 200, 'C.DiscoveryInstance'],
  ['/v1/discovery/heartbeat', 'post', 200, 'C.DiscoveryHeartbeatResponse'],
  ['/v1/discovery/unregister/{service_name}/{instance_id}', 'delete', 200, 'C.DiscoveryUnregisterResponse'],
  ['/v1/discovery/services', 'get', 200, 'C.DiscoveryServicesResponse'],
  ['/v1/discovery/services/{service_name}', 'get', 200, 'C.DiscoveryInstancesResponse'],
  ['/v1/discovery/services/{service_name}/healthy', 'get', 200, 'C.DiscoveryInstancesResponse'],
  ['/api/v1/services/register', 'post', 400, 'C.ErrorResponse'],
  ['/api/v1/services/{id}', 'get', 404, 'C.ErrorResponse'],
  ['/api/v1/services/{id}/heartbeat', 'put', 410, 'C.ErrorResponse'],
  ['/v1/discovery/heartbeat', 'post', 410, 'C.ErrorResponse'],
  ['/api/v1/services/{id}', 'put', 409, 'C.ErrorResponse'],
  ['/api/v1/services/{id}/health-check', 'post', 503, 'C.ErrorResponse'],
  ['/api/v1/incidents', 'get', 200, 'C.IncidentList'],
  ['/api/v1/incidents/{id}', 'get', 200, 'C.Incident'],
  ['/api/v1/incidents/{id}/resolve', 'post', 200, 'C.Incident'],
  ['/api/v1/incidents/{id}/acknowledge', 'post', 200, 'C.Incident'],
  ['/api/v1/incidents/{id}/resolve', 'post', 409, 'C.ErrorResponse'],
  ['/api/v1/services/{id}/uptime', 'get', 200, 'C.UptimeResponse'],
  ['/api/v1/services/{id}/pings', 'get', 200, 'C.PingsResponse'],
  ['/api/v1/uptime', 'get', 200, 'C.UptimeOverview'],
  ['/api/v1/status-page', 'get', 200, 'C.StatusPage'],
  ['/api/v1/webhooks', 'post', 201, 'C.Webhook'],
  ['/api/v1/webhooks', 'get', 200, 'C.WebhookList'],
  ['/api/v1/webhooks/{id}', 'get', 200, 'C.Webhook'],
  ['/api/v1/webhooks/{id}', 'put', 200, 'C.Webhook'],
  ['/api/v1/webhooks/{id}/deliveries', 'get', 200, 'C.WebhookDeliveryList'],
  ['/api/v1/webhooks/{id}/test', 'post', 200, 'C.WebhookDelivery'],
  ['/api/v1/webhooks', 'post', 400, 'C.ErrorResponse'],
];

/** A type-checked file: each generated answer and its contract type are assignable both ways. */
function agreementCheck(): string {
  const lines = [
    "import type { components, paths } from './generated';",
    "import type * as C from '@beacon/contracts';",
    "import type * as P from '@beacon/platform';",
    'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
    'type Agrees<T extends true> = T;',
    "type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;",
  ];
  lines.push("export type Record = Agrees<Same<components['schemas']['Service'], C.Service>>;");
  ANSWERS.forEach(([path, method, status, contractType], index) => {
    lines.push(`export type Answer${index} = Agrees<Same<Json<paths['${path}']['${method}']['responses'][${status}]>, ${contractType}>>;`);
  });
  return lines.join('\n');
}

function typeErrors(dir: string): string[] {
  const program = ts.createProgram([join(dir, 'check.ts')], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    experimentalDecorators: true,
    types: [],
    baseUrl: dir,
    paths: {
      '@beacon/contracts': [join(WORKSPACE, 'libs/contracts/dist/index.d.ts')],
      '@beacon/platform': [join(WORKSPACE, 'libs/platform/dist/index.d.ts')],
    },
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      // Name the answer that disagrees: its line in check.ts is `export type AnswerN = ...`.
      const line =
        diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.text.slice(0, diagnostic.start).split('\n').at(-1) : '';
      const answer = /export type (Answer\d+)/.exec(line ?? '')?.[1];
      return answer ? `${answer} (${ANSWERS[Number(answer.slice(6))]?.slice(0, 3).join(' ')}): ${message}` : message;
    })
    .filter((message, index, all) => all.indexOf(message) === index);
}

let registry: RegistryFixture;
let document: Document;

beforeAll(async () => {
  registry = await startRegistry();
  const response = await fetch(`${registry.api.url}/api/docs-json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});

afterAll(async () => {
  await registry?.dispose();
});

describe('/api/docs-json', () => {
  it('is valid OpenAPI (swagger-parser resolves every $ref and validates the document)', async () => {
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('documents every route: a summary, a success answer with its body, and its refusals', () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(28);
    for (const { route, operation } of operations) {
      expect(operation.summary, `${route} (${operation.operationId}) has no entry in openapi.ts OPERATIONS`).toBeTruthy();
      const success = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
      expect(success, route).toHaveLength(1);
      if (success[0] !== '204') expect(operation.responses[success[0] as string]?.content, route).toBeDefined();
      if (/\{(id|instance_id)\}/.test(path(route))) expect(Object.keys(operation.responses), route).toContain('404');
    }
  });

  it('generates a typed client whose answers agree with libs/contracts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'beacon-openapi-'));
    try {
      writeFileSync(join(dir, 'generated.ts'), astToString(await openapiTS(structuredClone(document) as never)));
      writeFileSync(join(dir, 'check.ts'), agreementCheck());
      expect(typeErrors(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function path(route: string): string {
  return route.slice(route.indexOf(' ') + 1);
}
