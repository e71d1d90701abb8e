import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { findBinary } from './binaries';
import { freePort, waitFor } from './ports';

/** nats-server's path (see `findBinary`); throws with how to install it when it is missing. */
export function findNatsServer(): string {
  const path = findBinary('nats-server');
  if (!path) throw new Error('nats-server not found: install it (Debian/Ubuntu: sudo apt-get install nats-server)');
  return path;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /** Stops the server; the JetStream directory is kept for `start()` again. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store (after `stop()`). */
  start(): Promise<void>;
  /** Stops and removes the store. */
  dispose(): Promise<void>;
}

/**
 * A real nats-server with JetStream on a free loopback port and a temporary store,
 * one per test suite (as nats.js's own test launcher does).
 */
export async function startNatsServer(
  options: { jetstream?: boolean; /** Bind address (0.0.0.0 for hosts in network namespaces). */ host?: string } = {},
): Promise<NatsServerHandle> {
  const binary = findNatsServer();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'beacon-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    const jetstream = options.jetstream === false ? [] : ['-js', '-sd', storeDir];
    child = spawn(binary, [...jetstream, '-a', options.host ?? '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(`nats-server on ${port}`, async () => {
      if (child?.exitCode !== null) throw new Error(`nats-server exited: ${output}`);
      const probe = await connect({ servers: url, reconnect: false, timeout: 500 });
      await probe.close();
      return true;
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
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
