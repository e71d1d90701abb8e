/**
 * The baseline: a bare Fastify 5 server (the same fastify package registry-api uses)
 * doing the minimum work of each Beacon route, with no framework, validation, store or
 * events around it.
 *
 *   POST /api/v1/services/register  JSON parse (Fastify's own parser) + Map insert, 201 + the stored object
 *   GET  /api/v1/services           filter N in-memory records (same fields as Beacon's wire
 *                                   records), return {services: first `limit`, total, page, page_size}
 *
 * Usage: node bench/bare-server.mjs <port> [records=10000]
 * Prints "READY <port>" when listening.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filterRecords, parseFilter, wireRecord } from './lib/dataset.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'apps', 'registry-api', 'package.json'));
const Fastify = require('fastify');

const port = Number(process.argv[2] ?? 0);
const count = Number(process.argv[3] ?? 10_000);

const now = Date.now();
const records = Array.from({ length: count }, (_, n) => wireRecord(n, now));
const registered = new Map();

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

app.post('/api/v1/services/register', async (request, reply) => {
  const record = { service_id: randomUUID(), ...request.body };
  registered.set(record.service_id, record);
  reply.code(201);
  return record;
});

app.get('/api/v1/services', async (request) => {
  const filter = parseFilter(request.query);
  const { services, total } = filterRecords(records, filter);
  return { services, total, page: Math.floor(filter.skip / filter.limit) + 1, page_size: filter.limit };
});

app.get('/health', async () => ({ status: 'ok', records: records.length, registered: registered.size }));

const address = await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`READY ${new URL(address).port}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => app.close().then(() => process.exit(0)));
