import { REPO_ROOT, createLan, waitFor, type Lan, type LanHost } from '@beacon/testing';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The whole stack as a user starts it (`node scripts/start.mjs`, nginx required, every default
 * port) inside the first host of a two-host netns LAN; the seeds' clients run on the second host.
 * Inside the namespaces only the LAN and multicast are routable, so the seeds' 192.168.1.x
 * addresses fail locally and nothing leaves the machine.
 *
 * The client host's /etc/hosts (ip netns exec binds /etc/netns/<ns>/hosts over /etc/hosts) maps
 * the seeds' host names, beacon.local and service-discovery, to the stack host, standing in for
 * mDNS name resolution (no nss-mdns here): the clients keep their printed base URLs.
 */
export const PYTHON = '/usr/bin/python3';
export const COMPAT = join(REPO_ROOT, 'compat');
/** Seed 000's base URL, as the seeds' clients print it. */
export const BEACON_PORT = 8097;

export interface LanStack {
  lan: Lan;
  stackHost: LanHost;
  clientHost: LanHost;
  /** `http://<stack host>:8097`, as the test (in the root namespace) reaches the gateway. */
  base: string;
  output(): string;
  /** NATS_USER and NATS_PASSWORD_FILE of one of the launcher's NATS identities (its NATS admits no one else). */
  natsIdentity(identity: string): Record<string, string>;
  /** SIGINT to the launcher (as Ctrl-C), then SIGKILL to anything left in either namespace; removes the LAN. */
  stop(): Promise<number | string | null>;
}

/** Every process in a namespace, by pid (only processes this suite started live there). */
function killNamespace(netns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function startLanStack(env: Record<string, string> = {}): Promise<LanStack> {
  const lan = createLan(2);
  const [stackHost, clientHost] = lan.hosts as [LanHost, LanHost];
  const hostsDir = join('/etc/netns', clientHost.netns);
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-compat-'));
  let launcher: ChildProcess | undefined;
  let text = '';
  const cleanUp = (): void => {
    killNamespace(stackHost.netns);
    killNamespace(clientHost.netns);
    lan.dispose();
    rmSync(hostsDir, { recursive: true, force: true });
    try {
      rmdirSync('/etc/netns'); // only if nothing else uses it
    } catch {
      // not empty, or already gone
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    mkdirSync(hostsDir, { recursive: true });
    writeFileSync(join(hostsDir, 'hosts'), `${readFileSync('/etc/hosts', 'utf8')}\n${stackHost.ip} beacon.local service-discovery\n`);
    launcher = stackHost.spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'start.mjs')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'warn',
        BEACON_NGINX: '1',
        BEACON_DATA_DIR: dataDir,
        // Beacon at beacon.local, as seed 000 names it (its _beacon._tcp record points there).
        MDNS_HOSTNAME: 'beacon',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    launcher.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const exited = new Promise<number | string | null>((resolve) => launcher!.once('exit', (code, signal) => resolve(code ?? signal)));
    await Promise.race([
      waitFor('"Beacon is up" from the launcher', () => text.includes('Beacon is up on'), 90_000, 200),
      exited.then((code) => {
        throw new Error(`the launcher exited (${code}) before the stack was up:\n${text.slice(-4000)}`);
      }),
    ]);
    const child = launcher;
    return {
      lan,
      stackHost,
      clientHost,
      base: `http://${stackHost.ip}:${BEACON_PORT}`,
      output: () => text,
      natsIdentity: (identity) => ({ NATS_USER: identity, NATS_PASSWORD_FILE: join(dataDir, 'nats', 'secrets', `${identity}.password`) }),
      async stop() {
        let code: number | string | null = 'killed';
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT');
          const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 45_000).unref());
          code = await Promise.race([exited, timeout]);
        }
        cleanUp();
        return code;
      },
    };
  } catch (error) {
    launcher?.kill('SIGKILL');
    cleanUp();
    throw error;
  }
}

/** A JSON line a driver printed, or a plain line from the seed's own code (`text`). */
export interface DriverLine {
  event: string;
  [field: string]: unknown;
}

export interface Driver {
  child: ChildProcess;
  lines: DriverLine[];
  /** Lines that are not JSON: what the seed's own code printed. */
  plain: string[];
  output(): string;
  next(event: string, timeoutMs?: number): Promise<DriverLine>;
  exited: Promise<number | string | null>;
}

/** Starts a driver on a LAN host and collects its JSON lines. */
export function runDriver(host: LanHost, command: string, args: string[], env: Record<string, string> = {}, detached = false): Driver {
  const child = host.spawn(command, args, {
    cwd: COMPAT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached,
  });
  const lines: DriverLine[] = [];
  const plain: string[] = [];
  let text = '';
  // Raw text too: curl's replies end without a newline, so they never make a whole line.
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object' && 'event' in parsed) lines.push(parsed as DriverLine);
      else plain.push(line);
    } catch {
      plain.push(line);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    child,
    lines,
    plain,
    output: () => text,
    exited,
    next: (event, timeoutMs = 60_000) =>
      waitFor(
        `"${event}" from ${args[0]}`,
        () => {
          const error = lines.find((line) => line.event === 'error');
          if (error)
            throw new Error(
              `${args[0]} failed: ${String(error.error)}\n${typeof error.trace === 'string' ? error.trace : JSON.stringify(error.trace ?? '')}`,
            );
          return lines.find((line) => line.event === event);
        },
        timeoutMs,
        100,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n--- driver output ---\n${text.slice(-3000)}`);
      }),
  };
}

/** Runs a command on a LAN host to completion. */
export function runOn(host: LanHost, command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000) {
  const result = spawnSync('ip', ['netns', 'exec', host.netns, command, ...args], {
    cwd: COMPAT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PYTHONDONTWRITEBYTECODE: '1', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Reads a service's status every second from outside (the root namespace, through the gateway)
 * until `stop()`: what an operator or another client would see while the seed's client keeps it alive.
 */
export function watchStatus(base: string, serviceId: string) {
  const readings: { at: number; status: string }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const response = await fetch(`${base}/api/v1/services/${serviceId}`);
        const status = response.ok ? ((await response.json()) as { status: string }).status : `HTTP ${response.status}`;
        readings.push({ at: started, status });
      } catch (error) {
        readings.push({ at: started, status: `error ${(error as Error).message}` });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();
  return {
    readings,
    async stop() {
      running = false;
      await loop;
      return readings;
    },
  };
}

/** Splits curl output that is several JSON documents back to back (no separators). */
export function jsonDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{' || char === '[') {
      if (depth === 0) start = index;
      depth += 1;
    } else if (char === '}' || char === ']') {
      depth -= 1;
      if (depth === 0) documents.push(JSON.parse(text.slice(start, index + 1)));
    }
  }
  return documents;
}

/** The output between `=== name` and the next marker line. */
export function section(output: string, name: string): string {
  const start = output.indexOf(`=== ${name}\n`);
  if (start < 0) throw new Error(`no "${name}" section in:\n${output}`);
  const body = output.slice(start + name.length + 5);
  const end = body.indexOf('\n=== ');
  return end < 0 ? body : body.slice(0, end);
}
