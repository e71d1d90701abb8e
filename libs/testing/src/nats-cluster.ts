import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { findNatsServer } from './nats-server';
import { freePort, waitFor } from './ports';

export interface NatsClusterNode {
  /** Its `server_name`, as JetStream names it in `cluster.leader` and `replicas`. */
  name: string;
  url: string;
  readonly running: boolean;
  readonly output: string;
  /** Kills it at once (SIGKILL, as a lost machine), keeping its store for `start()`. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store. */
  start(): Promise<void>;
}

export interface NatsClusterHandle {
  nodes: NatsClusterNode[];
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  urls: string;
  node(name: string): NatsClusterNode;
  /** Kills every node and removes the stores. */
  dispose(): Promise<void>;
}

/**
 * A JetStream cluster of `size` real nats-server processes on loopback, unauthenticated,
 * each with its own store and routes to all the others. Resolves once JetStream has a
 * meta leader (before that, every stream request fails).
 */
export async function startNatsCluster(size = 3): Promise<NatsClusterHandle> {
  const binary = findNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'beacon-nats-cluster-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);

  const nodes = ports.map(({ client, route }, index): NatsClusterNode => {
    const name = `n${index + 1}`;
    const url = `nats://127.0.0.1:${client}`;
    const store = join(dir, name);
    mkdirSync(store);
    const config = join(dir, `${name}.conf`);
    writeFileSync(
      config,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${client}`,
        `jetstream { store_dir: "${store}" }`,
        `cluster { name: beacon, listen: 127.0.0.1:${route}, routes: [${routes.filter((_, i) => i !== index).join(', ')}] }`,
      ].join('\n'),
    );
    let child: ChildProcess | null = null;
    let output = '';
    return {
      name,
      url,
      get running() {
        return child !== null && child.exitCode === null && child.signalCode === null;
      },
      get output() {
        return output;
      },
      async start() {
        output = '';
        const started = spawn(binary, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
        child = started;
        started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        await waitFor(`nats-server ${name} on ${client}`, async () => {
          if (started.exitCode !== null) throw new Error(`nats-server ${name} exited: ${output}`);
          const probe = await connect({ servers: url, reconnect: false, timeout: 500 });
          await probe.close();
          return true;
        });
      },
      async kill() {
        const running = child;
        child = null;
        if (!running || running.exitCode !== null || running.signalCode !== null) return;
        await new Promise<void>((resolve) => {
          running.once('exit', () => resolve());
          running.kill('SIGKILL');
        });
      },
    };
  });

  const handle: NatsClusterHandle = {
    nodes,
    urls: nodes.map((node) => node.url).join(','),
    node(name) {
      const found = nodes.find((node) => node.name === name);
      if (!found) throw new Error(`no node ${name} in the cluster`);
      return found;
    },
    async dispose() {
      await Promise.all(nodes.map((node) => node.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await waitFor(
      'a JetStream meta leader in the cluster',
      async () => {
        const probe = await connect({ servers: handle.urls, reconnect: false, timeout: 1000 });
        try {
          return (await (await probe.jetstreamManager({ timeout: 1000 })).getAccountInfo()) !== undefined;
        } finally {
          await probe.close();
        }
      },
      30_000,
      250,
    );
  } catch (error) {
    await handle.dispose();
    throw error;
  }
  return handle;
}
