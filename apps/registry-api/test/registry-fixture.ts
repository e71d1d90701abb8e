import { startApp, startNatsServer, type AppProcess, type NatsServerHandle } from '@beacon/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A nats-server, a temp dir and a registry-api process on an SQLite file in it. */
export interface RegistryFixture {
  nats: NatsServerHandle;
  dir: string;
  dbPath: string;
  api: AppProcess;
  /** `http://127.0.0.1:<port>/api/v1` */
  base: string;
  /** Starts another registry-api on the same database (after `api.stop()`). */
  restart(env?: Record<string, string>): Promise<AppProcess>;
  dispose(): Promise<void>;
}

export async function startRegistry(env: Record<string, string> = {}): Promise<RegistryFixture> {
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'beacon-registry-'));
  const dbPath = join(dir, 'beacon.db');
  const launch = (extra: Record<string, string>): Promise<AppProcess> =>
    startApp('registry-api', {
      env: { NATS_URL: nats.url, BEACON_SQLITE_PATH: dbPath, ...env, ...extra },
      portVariable: 'BEACON_PORT',
    });
  const fixture: RegistryFixture = {
    nats,
    dir,
    dbPath,
    api: await launch({}),
    base: '',
    async restart(extra = {}) {
      fixture.api = await launch(extra);
      fixture.base = `${fixture.api.url}/api/v1`;
      return fixture.api;
    },
    async dispose() {
      await fixture.api.stop();
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  fixture.base = `${fixture.api.url}/api/v1`;
  return fixture;
}

export interface JsonResponse<T> {
  status: number;
  body: T;
}

export async function call<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}
