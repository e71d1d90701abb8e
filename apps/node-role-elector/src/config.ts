import { chooseInterfaces, mdnsInterfaceEnv, unknownInterfaceProblem, type MdnsInterface } from '@beacon/mdns';
import { ConfigError, env, loadEnv, platformEnv, type EnvValues } from '@beacon/platform';
import { hostname } from 'node:os';
import { primaryIPv4 } from './network/local-address';

/** Seed 001's node id: `<hostname>-<unix seconds at start>`. */
function defaultNodeId(): string {
  return `${hostname()}-${Math.floor(Date.now() / 1000)}`;
}

/** node-role-elector's variables (seed 001's names where it has them), validated at boot. */
export const electorEnv = {
  ...platformEnv,
  ELECTOR_PORT: env.port({ doc: 'port of /health, /discovery, /ready and /metrics (seed 001: 9999)', default: 9999 }),
  ELECTOR_HOST: env.string({ doc: 'address to listen on', default: '0.0.0.0' }),
  NODE_ID: env.string({
    doc: "this node's id; the lower id wins when two nodes both end up server (mDNS)",
    default: defaultNodeId(),
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    patternHint: 'letters, digits, dot, underscore and hyphen, 1–100 characters',
  }),
  DISCOVERY_BACKEND: env.oneOf(['nats', 'mdns'], {
    doc: 'nats: a lease in JetStream KV (fencing, never two servers); mdns: LAN announcements, for a network without NATS yet',
    default: 'nats',
  }),
  ROLE: env.oneOf(['auto', 'server', 'agent'], {
    doc: 'auto elects; server or agent forces the role (also --role server|agent)',
    default: 'auto',
  }),
  SERVER_HOST: env.optionalString({
    doc: 'with ROLE=agent: the server to point at, without discovery (unset: follow the discovered server)',
  }),
  SERVER_PORT: env.port({ doc: "with SERVER_HOST: the server's port", default: 8097 }),
  SERVER_ADVERTISE_HOST: env.optionalString({
    doc: 'host agents are pointed at while this node is server (default: the address of the first MDNS_INTERFACE entry, else of the default-route interface)',
  }),
  SERVER_ADVERTISE_PORT: env.port({
    doc: "port agents are pointed at while this node is server (default: registry-api's 8097)",
    default: 8097,
  }),
  ELECTION_LEASE_TTL: env.int({
    doc: 'seconds a server lease lives without a refresh (the KV bucket TTL); refreshed every third of it',
    default: 10,
    min: 2,
    max: 3600,
  }),
  ELECTION_SAFETY_MARGIN: env.optionalString({
    doc: 'milliseconds before the lease could lapse at which a server that could not refresh steps down (default 20 % of the TTL, 250–2000)',
  }),
  ELECTION_POLL_INTERVAL: env.int({
    doc: 'milliseconds between attempts of a non-server to take the lease (and to read who holds it)',
    default: 500,
    min: 50,
    max: 60_000,
  }),
  ELECTION_MDNS_WINDOW: env.number({
    doc: 'seconds a starting node listens for a server announcement before it becomes server itself (mDNS)',
    default: 3,
    min: 0.2,
    max: 120,
  }),
  ELECTION_MDNS_ANNOUNCE_INTERVAL: env.number({
    doc: 'seconds between a server’s announcements; agents drop a server not heard for 3 intervals (mDNS)',
    default: 5,
    min: 0.2,
    max: 3600,
  }),
  ...mdnsInterfaceEnv,
  ROLE_HOOK: env.optionalString({
    doc: 'shell command run on every role change with BEACON_ROLE, BEACON_SERVER_HOST/PORT/URL, BEACON_NODE_ID, BEACON_FENCING_TOKEN',
  }),
  ROLE_HOOK_TIMEOUT: env.int({ doc: 'seconds a hook run may take before it is killed (and retried)', default: 120, min: 1, max: 86_400 }),
  ROLE_HOOK_MAX_BACKOFF: env.int({
    doc: 'longest wait, in seconds, between retries of a failing hook (starts at 1 s, doubles)',
    default: 60,
    min: 1,
    max: 3600,
  }),
  ROLE_ENV_FILE: env.optionalString({
    doc: 'file rewritten atomically with the same variables on every role change (for a compose env_file)',
  }),
};

type RawElectorEnv = EnvValues<typeof electorEnv>;

/** The validated settings, with the derived ones resolved. */
export type ElectorEnv = Omit<RawElectorEnv, 'ELECTION_SAFETY_MARGIN'> & {
  /** Milliseconds; see `ELECTION_SAFETY_MARGIN`. */
  ELECTION_SAFETY_MARGIN: number;
  /** The interfaces the mDNS backend runs on: MDNS_INTERFACE's, in its order, else every non-loopback IPv4 one. */
  mdnsInterfaces: MdnsInterface[];
  /**
   * The one address this node advertises as server (SERVER_ADVERTISE_HOST's default, the A
   * record): the first MDNS_INTERFACE entry's, else the default-route interface's.
   */
  advertisedAddress: string;
  /**
   * NATS is used: for the lease (nats backend), or for events and status when NATS_URL is
   * set explicitly (mDNS backend, or an agent pinned to SERVER_HOST).
   */
  useNats: boolean;
};

export const ELECTOR_ENV = Symbol('ELECTOR_ENV');

/** 20 % of the lease, at least 250 ms and at most 2 s: covers timer lateness and a slow write. */
export function defaultSafetyMarginMs(ttlSeconds: number): number {
  return Math.round(Math.min(2000, Math.max(250, ttlSeconds * 1000 * 0.2)));
}

function checked(value: string): { value?: string; error?: string } {
  return ['server', 'agent', 'auto'].includes(value.trim().toLowerCase())
    ? { value }
    : { error: `--role must be server or agent, got "${value}"` };
}

/**
 * `--role server|agent` (or `--role=...`) as in seed 001, taking precedence over ROLE.
 * Returns the value, undefined when absent, or an error sentence.
 */
export function roleArgument(argv: readonly string[]): { value?: string; error?: string } {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === '--role') {
      const value = argv[index + 1];
      if (!value || value.startsWith('-')) return { error: '--role needs a value: server or agent' };
      return checked(value);
    }
    if (arg.startsWith('--role=')) return checked(arg.slice('--role='.length));
  }
  return {};
}

/** Reads, validates and cross-checks the settings; throws one `ConfigError` listing every problem. */
export function loadElectorEnv(source: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv.slice(2)): ElectorEnv {
  const role = roleArgument(argv);
  if (role.error) throw new ConfigError([role.error]);
  const raw = loadEnv(electorEnv, role.value !== undefined ? { ...source, ROLE: role.value } : source);
  const problems: string[] = [];
  const ttlMs = raw.ELECTION_LEASE_TTL * 1000;
  let margin = defaultSafetyMarginMs(raw.ELECTION_LEASE_TTL);
  if (raw.ELECTION_SAFETY_MARGIN !== undefined) {
    margin = Number(raw.ELECTION_SAFETY_MARGIN);
    // The deadline must fall after the next refresh is due (a third of the lease), or a
    // healthy server would step down between two refreshes.
    if (!/^\d+$/.test(raw.ELECTION_SAFETY_MARGIN.trim()) || margin < 0 || margin >= (ttlMs * 2) / 3) {
      problems.push(
        `ELECTION_SAFETY_MARGIN must be whole milliseconds below two thirds of ELECTION_LEASE_TTL (< ${Math.floor((ttlMs * 2) / 3)}), got "${raw.ELECTION_SAFETY_MARGIN}"`,
      );
    }
  }
  if (source.SERVER_PORT !== undefined && source.SERVER_PORT !== '' && raw.SERVER_HOST === undefined) {
    problems.push('SERVER_PORT is set but SERVER_HOST is not: set both to point a forced agent at a server');
  }
  if (raw.SERVER_HOST !== undefined && raw.ROLE !== 'agent') {
    problems.push(`SERVER_HOST only applies with ROLE=agent (or --role agent); ROLE is ${raw.ROLE}`);
  }
  const mdns = chooseInterfaces(raw.MDNS_INTERFACE);
  const unknownInterfaces = unknownInterfaceProblem(mdns);
  if (unknownInterfaces) problems.push(unknownInterfaces);
  if (problems.length > 0) throw new ConfigError(problems);
  const explicitNats = source.NATS_URL !== undefined && source.NATS_URL !== '';
  // An agent pinned to SERVER_HOST elects nothing: it needs NATS only if told where it is.
  const pinned = raw.ROLE === 'agent' && raw.SERVER_HOST !== undefined;
  const useNats = explicitNats || (raw.DISCOVERY_BACKEND === 'nats' && !pinned);
  const [first] = mdns.interfaces;
  const advertisedAddress = raw.MDNS_INTERFACE.length > 0 && first ? first.address : primaryIPv4(mdns.interfaces);
  return { ...raw, ELECTION_SAFETY_MARGIN: margin, mdnsInterfaces: mdns.interfaces, advertisedAddress, useNats };
}
