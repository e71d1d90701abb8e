import type { Service } from '@beacon/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from './app-process';
import { register } from './http';
import { startNatsServer, type NatsServerHandle } from './nats-server';

export interface RegistryOptions {
  /** Variables for registry-api on top of NATS_URL, BEACON_SQLITE_PATH and the per-client rate limits (off). */
  env?: Record<string, string>;
  /** Use this nats-server (left running by `dispose`) instead of starting one. */
  nats?: NatsServerHandle;
  /** Bind address of the nats-server started here (0.0.0.0 for hosts in network namespaces). */
  natsHost?: string;
}

/** A nats-server, a temp dir and a registry-api process on an SQLite file in it. */
export interface RegistryFixture {
  nats: NatsServerHandle;
  dir: string;
  dbPath: string;
  /** The running registry-api (replaced by `restart`). */
  api: AppProcess;
  /** `http://127.0.0.1:<port>/api/v1` of the running process. */
  base: string;
  /** Registers through the running process and insists on 201 (see `register`). */
  register<T = Service>(body?: Record<string, unknown>): Promise<T>;
  /** Starts another registry-api on the same database (after `api.stop()`). */
  restart(env?: Record<string, string>): Promise<AppProcess>;
  /** Stops the process (and the nats-server it started) and removes the temp dir. */
  dispose(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * registry-api as the suites need it: on a fresh SQLite file, over a real nats-server.
 * Whatever was started is stopped again when start-up fails half-way.
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryFixture> {
  const ownNats = options.nats === undefined;
  const nats = options.nats ?? (await startNatsServer({ host: options.natsHost }));
  const dir = mkdtempSync(join(tmpdir(), 'beacon-registry-'));
  const dbPath = join(dir, 'beacon.db');
  const cleanUp = async (): Promise<void> => {
    if (ownNats) await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  const launch = (extra: Record<string, string>): Promise<AppProcess> =>
    startApp('registry-api', {
      env: {
        NATS_URL: nats.url,
        BEACON_SQLITE_PATH: dbPath,
        // Suites register and check far faster than any real client; the security suite sets the limits it tests.
        BEACON_REGISTRATIONS_PER_SECOND: '0',
        BEACON_ON_DEMAND_CHECKS_PER_MINUTE: '0',
        ...options.env,
        ...extra,
      },
      portVariable: 'BEACON_PORT',
    });
  let api: AppProcess;
  try {
    api = await launch({});
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const fixture: RegistryFixture = {
    nats,
    dir,
    dbPath,
    api,
    base: `${api.url}/api/v1`,
    register: (body) => register(fixture.api.url, body),
    async restart(extra = {}) {
      fixture.api = await launch(extra);
      fixture.base = `${fixture.api.url}/api/v1`;
      return fixture.api;
    },
    async dispose(signal) {
      await fixture.api.stop(signal);
      await cleanUp();
    },
  };
  return fixture;
}
