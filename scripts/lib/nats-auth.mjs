/**
 * NATS credentials for the local stack: on first start, one random password per identity
 * (libs/contracts nats-permissions.ts) in BEACON_DATA_DIR/nats/secrets, mode 0600, and a
 * nats-server config with those users and permissions; later starts reuse the passwords.
 * Also renders deploy/nats/nats.conf, where the passwords come from the environment.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './tools.mjs';

/** The built contracts (the launcher runs built apps, so they are there). */
function contracts() {
  const require = createRequire(import.meta.url);
  const path = join(REPO_ROOT, 'libs', 'contracts', 'dist', 'index.js');
  if (!existsSync(path)) throw new Error('libs/contracts is not built: run "pnpm build"');
  return require(path);
}

export const READER_IDENTITY = 'beacon-reader';

/** Where the launcher keeps the password files, under BEACON_DATA_DIR/nats. */
export const secretsDir = (natsDir) => join(natsDir, 'secrets');
export const passwordFile = (natsDir, identity) => join(secretsDir(natsDir), `${identity}.password`);

/** Shorter kept passwords are replaced: the launcher writes 32 characters, so a short one was put there by someone else. */
const MIN_PASSWORD_LENGTH = 24;

/**
 * The secrets directory, made if absent; refused (the launcher stops, saying why) when it
 * belongs to another user, who could then have planted or could read the passwords.
 */
function secureSecretsDir(natsDir) {
  const dir = secretsDir(natsDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const owner = statSync(dir).uid;
  if (typeof process.getuid === 'function' && owner !== process.getuid()) {
    throw new Error(
      `${dir} belongs to uid ${owner}, not to the user starting Beacon (uid ${process.getuid()}): remove it, or start Beacon as its owner`,
    );
  }
  chmodSync(dir, 0o700);
  return dir;
}

/** The identity's password: the one written on an earlier start (kept private), or a new one. */
function passwordOf(natsDir, identity) {
  const file = passwordFile(natsDir, identity);
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= MIN_PASSWORD_LENGTH) {
      chmodSync(file, 0o600);
      return kept;
    }
  }
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return password;
}

/**
 * Writes `natsDir`/nats.conf (JetStream stored in `natsDir`, listening on `host:port`) and
 * each identity's password file. Returns the config's path and, per app, the variables it
 * connects with.
 */
export function prepareLocalNats(natsDir, { host, port }) {
  const { NATS_IDENTITIES, natsServerConfig } = contracts();
  secureSecretsDir(natsDir);
  const passwords = Object.fromEntries(NATS_IDENTITIES.map((identity) => [identity, passwordOf(natsDir, identity)]));
  const configPath = join(natsDir, 'nats.conf');
  const config = natsServerConfig({
    listen: `${host}:${port}`,
    storeDir: natsDir,
    password: (identity) => ({ literal: passwords[identity] }),
  });
  writeFileSync(configPath, config, { mode: 0o600 });
  chmodSync(configPath, 0o600);
  return { configPath, envFor: (identity) => identityEnv(natsDir, identity) };
}

/** The variables an app (or `pnpm events`) connects as `identity` with, if the launcher wrote its password. */
export function identityEnv(natsDir, identity) {
  const file = passwordFile(natsDir, identity);
  return existsSync(file) ? { NATS_USER: identity, NATS_PASSWORD_FILE: file } : null;
}

/** deploy/nats/nats.conf: the same users and permissions, each password from NATS_PASSWORD_<IDENTITY>. */
export function deployNatsConfig() {
  const { natsServerConfig, passwordVariable } = contracts();
  return natsServerConfig({
    serverName: 'beacon-nats',
    listen: '0.0.0.0:4222',
    httpPort: 8222,
    storeDir: '/data',
    password: (identity) => ({ variable: passwordVariable(identity) }),
  });
}

export const DEPLOY_NATS_CONFIG = join(REPO_ROOT, 'deploy', 'nats', 'nats.conf');
