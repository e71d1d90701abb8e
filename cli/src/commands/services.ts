import type { Command } from 'commander';
import { isBeaconError, type ServiceListResponse } from '@beacon/client';
import { act } from '../context';
import { addFilterFlags, addRegisterFlags, filterOf, integer, registerBody, type FilterFlags, type RegisterFlags } from '../options';
import { PING_COLUMNS, SERVICE_COLUMNS, serviceFields } from '../views';

function listFooter(answer: ServiceListResponse, skip: number): string | undefined {
  const shown = answer.services.length;
  return answer.total > skip + shown ? `(${shown} of ${answer.total} shown: --limit and --skip page through them)` : undefined;
}

/** The catalog: ls, get, register, deregister, heartbeat, check, uptime, pings. */
export function addServiceCommands(program: Command): void {
  addFilterFlags(
    program
      .command('ls')
      .alias('list')
      .description('list registered services (GET /api/v1/services)')
      .option('--limit <n>', 'at most this many', integer('--limit', 1))
      .option('--skip <n>', 'skip this many first', integer('--skip', 0)),
  ).action(
    act(async ({ client, output }, flags: FilterFlags & { limit?: number; skip?: number }) => {
      const answer = await (await client()).list({ ...filterOf(flags), limit: flags.limit, skip: flags.skip });
      output.list(answer, {
        rows: answer.services,
        columns: SERVICE_COLUMNS,
        id: (s) => s.service_id,
        footer: listFooter(answer, flags.skip ?? 0),
      });
    }),
  );

  program
    .command('get')
    .description('show one service by id, or every instance of a name (GET /api/v1/services/{id}, else ?name=)')
    .argument('<id|name>', 'a service id or a service name')
    .action(
      act(async ({ client, output }, key: string) => {
        const beacon = await client();
        try {
          const service = await beacon.get(key);
          return output.record(service, service.service_id, serviceFields(service));
        } catch (error) {
          if (!isBeaconError(error, 'not_found', 'bad_request')) throw error;
          const byName = await beacon.list({ name: key });
          if (byName.services.length === 0) throw error;
          output.list(byName, { rows: byName.services, columns: SERVICE_COLUMNS, id: (s) => s.service_id, footer: listFooter(byName, 0) });
        }
      }),
    );

  addRegisterFlags(
    program.command('register').description('register a service once, nothing kept alive (POST /api/v1/services/register)'),
    true,
  ).action(
    act(async ({ client, output }, flags: RegisterFlags) => {
      const service = await (await client()).registerOnce(registerBody(flags, flags.host ?? ''));
      output.record(service, service.service_id, serviceFields(service));
    }),
  );

  program
    .command('deregister')
    .alias('rm')
    .description('remove a service (DELETE /api/v1/services/{id}); its heartbeats then get 410 Gone')
    .argument('<id>', 'service id')
    .action(
      act(async ({ client, output }, id: string) => {
        await (await client()).deregister(id);
        if (output.mode === 'json') return output.json({ service_id: id, deregistered: true });
        if (output.mode === 'quiet') return output.line(id);
        output.line(`deregistered ${id}`);
      }),
    );

  program
    .command('heartbeat')
    .description('renew a service once (PUT /api/v1/services/{id}/heartbeat)')
    .argument('<id>', 'service id')
    .option('--ttl <seconds>', 'renew for this many seconds', integer('--ttl', 1))
    .action(
      act(async ({ client, output }, id: string, flags: { ttl?: number }) => {
        const answer = await (await client()).heartbeat(id, flags.ttl);
        output.record(answer, id, [
          ['id', id],
          ['message', String(answer.message)],
          ['expires', String(answer.expires_at ?? '-')],
        ]);
      }),
    );

  program
    .command('check')
    .description('check a service now and print the result (POST /api/v1/services/{id}/health-check)')
    .argument('<id>', 'service id')
    .action(
      act(async ({ client, output }, id: string) => {
        const answer = await (await client()).check(id);
        const r = answer.result;
        output.record(answer, id, [
          ['service', `${answer.service.name} (${id})`],
          ['target', r.target],
          ['health', r.health, true],
          ['outcome', r.outcome],
          ['status code', String(r.status_code ?? '-')],
          ['response', `${r.response_time_ms} ms`],
          ['load', String(r.load ?? '-')],
          ['error', String(r.error ?? '-')],
        ]);
      }),
    );

  program
    .command('uptime')
    .description("a service's uptime per period and its recent 5-minute windows (GET /api/v1/services/{id}/uptime)")
    .argument('<id>', 'service id')
    .option('--from <time>', 'first window (ISO 8601)')
    .option('--to <time>', 'end of the last window (ISO 8601)')
    .action(
      act(async ({ client, output }, id: string, flags: { from?: string; to?: string }) => {
        const answer = await (await client()).uptime(id, flags);
        const pct = (value: number | null): string => (value === null ? '-' : `${value.toFixed(2)}%`);
        output.record(answer, id, [
          ['service', id],
          ['source', answer.source],
          ['1h', pct(answer.uptime['1h'])],
          ['24h', pct(answer.uptime['24h'])],
          ['7d', pct(answer.uptime['7d'])],
          ['30d', pct(answer.uptime['30d'])],
          ['windows', `${answer.windows.length} from ${answer.from} to ${answer.to}`],
        ]);
      }),
    );

  program
    .command('pings')
    .description("a service's latest check results, newest first (GET /api/v1/services/{id}/pings)")
    .argument('<id>', 'service id')
    .option('--limit <n>', 'at most this many', integer('--limit', 1))
    .action(
      act(async ({ client, output }, id: string, flags: { limit?: number }) => {
        const answer = await (await client()).pings(id, flags.limit);
        output.list(answer, { rows: answer.pings, columns: PING_COLUMNS, id: (p) => p.checked_at });
      }),
    );
}
