import { Option, type Command } from 'commander';
import type { RegisterRequest, ServiceFilter } from '@beacon/client';
import { HEALTH_STATES, SERVICE_STATUSES } from '@beacon/contracts';
import { usage } from './exit-codes';

/** Repeatable string flags (`--tag a --tag b`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || parsed < min || parsed > max)
      throw usage(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
    return parsed;
  };
}

/** `key=value` pairs of repeated --meta flags. */
export function metadata(pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  // No prototype: `--meta __proto__=x` is a key like any other.
  const result = Object.create(null) as Record<string, string>;
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usage(`--meta takes key=value, not "${pair}"`);
    const key = pair.slice(0, at);
    // One value per key: a second would silently replace the first (or ask for an impossible filter).
    if (Object.hasOwn(result, key)) throw usage(`--meta ${key} is given twice`);
    result[key] = pair.slice(at + 1);
  }
  return result;
}

export interface FilterFlags {
  type?: string;
  tag?: string[];
  status?: string;
  health?: string;
  name?: string;
  meta?: string[];
}

export function addFilterFlags(command: Command, withState = true): Command {
  command
    .option('--type <type>', 'only services of this type')
    .option('--tag <tag>', 'only services carrying this tag (repeatable: all of them)', collect)
    .option('--name <name>', 'only services with this name');
  if (withState) {
    command
      .addOption(new Option('--status <status>', 'only services with this status').choices(SERVICE_STATUSES))
      .addOption(new Option('--health <health>', 'only services with this health').choices(HEALTH_STATES))
      .option('--meta <key=value>', 'only services with this metadata entry (repeatable)', collect);
  }
  return command;
}

export function filterOf(flags: FilterFlags): ServiceFilter {
  return {
    type: flags.type,
    tags: flags.tag,
    status: flags.status,
    health: flags.health,
    name: flags.name,
    metadata: metadata(flags.meta),
  };
}

export interface RegisterFlags {
  name: string;
  host?: string;
  port: number;
  type?: string;
  protocol?: string;
  version?: string;
  tag?: string[];
  meta?: string[];
  ttl?: number;
  checkUrl?: string;
  checkInterval?: number;
}

/**
 * The flags of `register` and `run` (run defaults --host to this machine's LAN address, and
 * --ttl to `ttlDefault` rather than the registry's own default).
 */
export function addRegisterFlags(command: Command, hostRequired: boolean, ttlDefault?: number): Command {
  const host = new Option(
    '--host <host>',
    hostRequired ? 'address others reach it at' : "address others reach it at (default: this machine's first LAN IPv4 address)",
  );
  if (hostRequired) host.makeOptionMandatory();
  return command
    .requiredOption('--name <name>', 'service name')
    .addOption(host)
    .requiredOption('--port <port>', 'port it listens on', integer('--port', 1, 65_535))
    .option('--type <type>', 'service type (e.g. api, database)')
    .option('--protocol <protocol>', 'protocol (e.g. http, grpc)')
    .option('--version <version>', "the service's version")
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--meta <key=value>', 'a metadata entry (repeatable)', collect)
    .addOption(new Option('--ttl <seconds>', 'seconds a heartbeat keeps it alive').argParser(integer('--ttl', 1)).default(ttlDefault))
    .option('--check-url <url>', 'URL the health prober checks')
    .option('--check-interval <seconds>', 'seconds between health checks', integer('--check-interval', 1));
}

export function registerBody(flags: RegisterFlags, host: string): RegisterRequest {
  const body: RegisterRequest = { name: flags.name, host, port: flags.port };
  if (flags.type !== undefined) body.type = flags.type;
  if (flags.protocol !== undefined) body.protocol = flags.protocol;
  if (flags.version !== undefined) body.version = flags.version;
  if (flags.tag !== undefined) body.tags = flags.tag;
  const meta = metadata(flags.meta);
  if (meta !== undefined) body.metadata = meta;
  if (flags.ttl !== undefined) body.ttl = flags.ttl;
  if (flags.checkUrl !== undefined) body.health_check_url = flags.checkUrl;
  if (flags.checkInterval !== undefined) body.health_check_interval = flags.checkInterval;
  return body;
}
