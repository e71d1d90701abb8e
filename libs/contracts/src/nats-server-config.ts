import { NATS_IDENTITIES, natsPermissions, type NatsIdentity } from './nats-permissions';

/**
 * An identity's password in a rendered nats-server config: written out (the local launcher's
 * 0600 file), or an environment variable the server reads at start (deploy/nats, where the
 * passwords come from compose or Kubernetes secrets and the file itself is committed).
 */
export type PasswordSource = { literal: string } | { variable: string };

/** The variable deploy/nats reads an identity's password from: `NATS_PASSWORD_REGISTRY_API`. */
export function passwordVariable(identity: NatsIdentity): string {
  return `NATS_PASSWORD_${identity.toUpperCase().replace(/-/g, '_')}`;
}

export interface NatsServerConfigOptions {
  /** `host:port` clients connect to. */
  listen: string;
  /** JetStream's store directory. */
  storeDir: string;
  password: (identity: NatsIdentity) => PasswordSource;
  /** Monitoring port (`/healthz`), none when absent. */
  httpPort?: number;
  serverName?: string;
}

const quoted = (text: string): string => JSON.stringify(text);
const list = (items: readonly string[]): string => `[${items.map(quoted).join(', ')}]`;

function userBlock(identity: NatsIdentity, password: PasswordSource): string {
  const permissions = natsPermissions(identity);
  // A variable is unquoted: nats-server then takes it from its environment.
  const secret = 'literal' in password ? quoted(password.literal) : `$${password.variable}`;
  return [
    '    {',
    `      user: ${quoted(identity)}`,
    `      password: ${secret}`,
    '      permissions: {',
    // An empty allow list is no limit to nats-server: an identity that may publish nothing says so.
    permissions.publish.length > 0 ? `        publish: { allow: ${list(permissions.publish)} }` : `        publish: { deny: [">"] }`,
    `        subscribe: { allow: ${list(permissions.subscribe)} }`,
    ...(permissions.answersRequests ? ['        allow_responses: true'] : []),
    '      }',
    '    }',
  ].join('\n');
}

/** A complete nats-server config: JetStream on, and only Beacon's identities, each with its permissions. */
export function natsServerConfig(options: NatsServerConfigOptions): string {
  return [
    '# Rendered from libs/contracts/src/nats-permissions.ts: change the permissions there.',
    ...(options.serverName ? [`server_name: ${quoted(options.serverName)}`] : []),
    `listen: ${quoted(options.listen)}`,
    ...(options.httpPort ? [`http_port: ${options.httpPort}`] : []),
    `jetstream: { store_dir: ${quoted(options.storeDir)} }`,
    'authorization {',
    '  users = [',
    NATS_IDENTITIES.map((identity) => userBlock(identity, options.password(identity))).join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}
