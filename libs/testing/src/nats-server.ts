import { NATS_IDENTITIES, READER_IDENTITY, inboxPrefix, natsServerConfig, type NatsIdentity } from '@beacon/contracts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'nats';
import { findBinary } from './binaries';
import { freePort, listensOn, waitFor } from './ports';

/** nats-server's path (see `findBinary`); throws with how to install it when it is missing. */
export function findNatsServer(): string {
  const path = findBinary('nats-server');
  if (!path) throw new Error('nats-server not found: install it (Debian/Ubuntu: sudo apt-get install nats-server)');
  return path;
}

/** How an app process connects as one identity: the variables it reads (libs/platform). */
export interface NatsIdentityEnv {
  NATS_USER: string;
  NATS_PASSWORD_FILE: string;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /**
   * With `auth`: each identity's variables, to start an app as it (`startApp(..., { env })`).
   * Without: undefined.
   */
  identities?: Record<NatsIdentity, NatsIdentityEnv & { password: string }>;
  /** nats.js connect options for `identity` (user, password, its inbox); `{}` without `auth`. */
  credentials(identity: NatsIdentity): Pick<ConnectionOptions, 'user' | 'pass' | 'inboxPrefix'>;
  /** What the server wrote so far (permission violations are logged there). */
  readonly output: string;
  /** Stops the server; the JetStream directory is kept for `start()` again. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store (after `stop()`). */
  start(): Promise<void>;
  /** Stops and removes the store. */
  dispose(): Promise<void>;
}

/**
 * Beacon's real permissions (libs/contracts nats-permissions.ts) as a server config in
 * `dir`, with a random password per identity, each also in a file as the apps read it.
 */
function writeAuthConfig(dir: string, port: number, host: string, storeDir: string): NonNullable<NatsServerHandle['identities']> {
  const identities = {} as NonNullable<NatsServerHandle['identities']>;
  for (const identity of NATS_IDENTITIES) {
    const password = randomBytes(18).toString('base64url');
    const file = join(dir, `${identity}.password`);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    identities[identity] = { NATS_USER: identity, NATS_PASSWORD_FILE: file, password };
  }
  const config = natsServerConfig({
    listen: `${host}:${port}`,
    storeDir,
    password: (identity) => ({ literal: identities[identity].password }),
  });
  writeFileSync(join(dir, 'nats.conf'), config, { mode: 0o600 });
  return identities;
}

/**
 * A real nats-server with JetStream on a free loopback port and a temporary store,
 * one per test suite (as nats.js's own test launcher does). With `auth`, it runs Beacon's
 * permissioned config: only its identities may connect, each limited to its permissions.
 */
export async function startNatsServer(
  options: {
    jetstream?: boolean;
    /** Bind address (0.0.0.0 for hosts in network namespaces). */ host?: string;
    /** Beacon's identities and permissions (implies JetStream). */ auth?: boolean;
  } = {},
): Promise<NatsServerHandle> {
  const binary = findNatsServer();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'beacon-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  const host = options.host ?? '127.0.0.1';
  const identities = options.auth ? writeAuthConfig(storeDir, port, host, join(storeDir, 'js')) : undefined;
  const credentials = (identity: NatsIdentity): Pick<ConnectionOptions, 'user' | 'pass' | 'inboxPrefix'> => {
    const found = identities?.[identity];
    return found ? { user: found.NATS_USER, pass: found.password, inboxPrefix: inboxPrefix(identity) } : {};
  };
  let child: ChildProcess | null = null;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    const jetstream = options.jetstream === false ? [] : ['-js', '-sd', storeDir];
    const args = identities ? ['-c', join(storeDir, 'nats.conf')] : [...jetstream, '-a', host, '-p', String(port)];
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(`nats-server on ${port}`, async () => {
      if (child?.exitCode !== null) throw new Error(`nats-server exited: ${output}`);
      const probe = await connect({ servers: url, reconnect: false, timeout: 500, ...credentials(READER_IDENTITY) });
      await probe.close();
      // The answer may come from another suite's server that took the port first (see freePort).
      return child?.pid !== undefined && listensOn(child.pid, port);
    });
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };

  await start();
  return {
    url,
    port,
    identities,
    credentials,
    get output() {
      return output;
    },
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
