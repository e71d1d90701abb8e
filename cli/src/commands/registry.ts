import type { Command } from 'commander';
import type { ElectorStatus } from '@beacon/contracts';
import { act } from '../context';
import { printable as p } from '../output';

const env = (name: string): string | undefined => (process.env[name] === '' ? undefined : process.env[name]);

/** node-role-elector's `/discovery` (seed 001) on the registry's host, port 9999. */
export function defaultElectorUrl(beaconUrl: string): string {
  const url = new URL(beaconUrl);
  return `${url.protocol}//${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:9999/discovery`;
}

/** More than any /discovery answer: a larger body is not read on (the elector is then unreachable). */
const ELECTOR_MAX_BYTES = 1024 * 1024;

async function elector(url: string): Promise<ElectorStatus | null> {
  try {
    const answer = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!answer.ok || answer.body === null) return null;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of answer.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > ELECTOR_MAX_BYTES) {
        await answer.body.cancel().catch(() => undefined);
        return null;
      }
      chunks.push(chunk);
    }
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as ElectorStatus) : null;
  } catch {
    return null;
  }
}

/** Registry-wide: stats and status. */
export function addRegistryCommands(program: Command): void {
  program
    .command('stats')
    .description('catalog counts by status, health and type; checks and events in the last minute (GET /api/v1/stats)')
    .action(
      act(async ({ client, output }) => {
        const stats = await (await client()).stats();
        const counts = (record: Record<string, number>): string =>
          Object.entries(record)
            .map(([key, value]) => `${key} ${value}`)
            .join(', ') || '-';
        output.record(stats, String(stats.revision), [
          ['services', String(stats.services.total)],
          ['by status', counts(stats.services.by_status)],
          ['by health', counts(stats.services.by_health)],
          ['by type', counts(stats.services.by_type)],
          ['checks/min', String(stats.checks_last_minute)],
          ['events/min', String(stats.events_last_minute)],
          ['revision', String(stats.revision)],
        ]);
      }),
    );

  program
    .command('status')
    .description("Beacon's own health (GET /api/v1/health), the mDNS announcer, and the elector's role (seed 001's /discovery)")
    .option('--elector-url <url>', "node-role-elector's /discovery (env BEACON_ELECTOR_URL; default: port 9999 on Beacon's host)")
    .action(
      act(async ({ client, output }, flags: { electorUrl?: string }) => {
        const beacon = await client();
        const electorUrl = flags.electorUrl ?? env('BEACON_ELECTOR_URL') ?? defaultElectorUrl(beacon.url);
        const [health, role] = await Promise.all([beacon.health(), elector(electorUrl)]);
        const mdns = health.mdns;
        const c = health.services;
        output.record({ registry: health, elector: role, elector_url: electorUrl }, health.status, [
          [
            'beacon',
            `${p(beacon.url)}  ${output.tone(p(health.status))}  v${p(health.version)}, up ${Math.round(health.uptime)}s`,
            'painted',
          ],
          [
            'services',
            Object.entries(c)
              .map(([k, v]) => `${k} ${v}`)
              .join(', '),
          ],
          [
            'store',
            `${p(health.database.backend)} ${health.database.connected ? 'connected' : output.tone('unhealthy')}${health.database.ping_ms === null ? '' : ` (${health.database.ping_ms} ms)`}`,
            'painted',
          ],
          ['nats', health.nats.connected ? 'connected' : 'disconnected'],
          [
            'mdns',
            mdns.running === 'unknown'
              ? 'announcer not answering'
              : `${mdns.running ? 'running' : 'stopped'}, ${mdns.registered_services} announced in ${mdns.domain}${'problem' in mdns && mdns.problem ? ` (${mdns.problem})` : ''}`,
          ],
          [
            'elector',
            role === null
              ? `unreachable (${p(electorUrl)})`
              : `${output.tone(p(role.mode))} node ${p(role.node_id)} (${p(role.backend)})${role.server ? `, server ${p(`${role.server.host}:${role.server.port}`)}` : ''}`,
            'painted',
          ],
        ]);
      }),
    );
}
