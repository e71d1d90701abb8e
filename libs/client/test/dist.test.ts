import { startRegistry, uniqueName, waitFor, type RegistryFixture } from '@beacon/testing';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Beacon, BeaconError } from '../src';

const PACKAGE = resolve(__dirname, '..');
const DIST = join(PACKAGE, 'dist');

/** The built files an ESM import of the root entry loads: index.mjs and the chunks it imports. */
function rootEntryFiles(): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(join(DIST, file), 'utf8').matchAll(/from\s+["']\.\/([^"']+)["']/g)) visit(match[1]!);
  };
  visit('index.mjs');
  return [...seen];
}

/** Runs `node` in the package's directory, where `@beacon/client` resolves to itself. */
function node(args: string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, args, { cwd: PACKAGE, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
}

describe('the built package', () => {
  beforeAll(() => {
    if (!existsSync(join(DIST, 'index.mjs'))) throw new Error(`${DIST}/index.mjs is missing: run "pnpm build" first`);
  });

  it('keeps the root entry browser-safe: no runtime @beacon/contracts, no node: modules, no require', () => {
    const files = rootEntryFiles();
    expect(files).toContain('index.mjs');
    for (const file of files) {
      const text = readFileSync(join(DIST, file), 'utf8');
      expect(text, file).not.toMatch(/@beacon\/contracts/);
      expect(text, file).not.toMatch(/["']node:|require\(/);
      expect(text, file).not.toMatch(/from\s+["'](nats|ws)["']/);
    }
    const cjs = readFileSync(join(DIST, 'index.cjs'), 'utf8');
    expect(cjs).not.toMatch(/require\(["'](@beacon\/contracts|node:)/);
  });

  it('loads as ESM and as CJS in plain node', () => {
    const esm = node(
      [
        '--input-type=module',
        '-e',
        "import { Beacon, BeaconError } from '@beacon/client'; console.log(new Beacon().url, typeof BeaconError)",
      ],
      {
        BEACON_URL: 'http://esm.example:1/',
      },
    );
    expect(esm.trim()).toBe('http://esm.example:1 function');
    const cjs = node(
      ['-e', "const { Beacon, Registration } = require('@beacon/client'); console.log(new Beacon().url, typeof Registration)"],
      {
        BEACON_URL: 'http://cjs.example:2',
      },
    );
    expect(cjs.trim()).toBe('http://cjs.example:2 function');
  });

  it('loads the nats entry as ESM and as CJS', () => {
    const esm = node([
      '--input-type=module',
      '-e',
      "import { subscribeEvents } from '@beacon/client/nats'; console.log(typeof subscribeEvents)",
    ]);
    expect(esm.trim()).toBe('function');
    const cjs = node(['-e', "console.log(typeof require('@beacon/client/nats').subscribeEvents)"]);
    expect(cjs.trim()).toBe('function');
  });
});

describe('deregisterOnExit in a real process', () => {
  let registry: RegistryFixture;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.dispose();
  });

  it("SIGTERM with the program's own handler: deregisters, and the program decides when to exit", async () => {
    const name = uniqueName('sdk-exit-own');
    const script = `
      const { Beacon } = require('@beacon/client');
      process.on('SIGTERM', () => setTimeout(() => { console.log('own handler done'); process.exit(7); }, 1500));
      new Beacon().register({ name: ${JSON.stringify(name)}, host: '127.0.0.1', port: 7201, ttl: 10 }, { deregisterOnExit: true })
        .then((reg) => console.log('registered ' + reg.id));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], {
      cwd: PACKAGE,
      env: { ...process.env, BEACON_URL: registry.api.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((done) =>
      child.once('exit', (code, sig) => done({ code, signal: sig })),
    );
    try {
      const id = await waitFor('the child registered', () => /registered (\S+)/.exec(output)?.[1], 15_000);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 7, signal: null });
      expect(output).toContain('own handler done');
      const error = await new Beacon({ url: registry.api.url }).get(id).catch((thrown: unknown) => thrown);
      expect((error as BeaconError).code).toBe('not_found');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: deregisters, then dies of the signal as it would have`, async () => {
      const name = uniqueName('sdk-exit');
      const script = `
        const { Beacon } = require('@beacon/client');
        new Beacon().register({ name: ${JSON.stringify(name)}, host: '127.0.0.1', port: 7200, ttl: 10 }, { keepAlive: true, deregisterOnExit: true })
          .then((reg) => console.log('registered ' + reg.id));
        setInterval(() => {}, 1000); // the program's own work keeps it running
      `;
      const child = spawn(process.execPath, ['-e', script], {
        cwd: PACKAGE,
        env: { ...process.env, BEACON_URL: registry.api.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((done) =>
        child.once('exit', (code, sig) => done({ code, signal: sig })),
      );
      try {
        const id = await waitFor('the child registered', () => /registered (\S+)/.exec(output)?.[1], 15_000);
        const beacon = new Beacon({ url: registry.api.url });
        expect((await beacon.get(id)).name).toBe(name);
        child.kill(signal);
        expect(await exited).toEqual({ code: null, signal });
        const error = await beacon.get(id).catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(BeaconError);
        expect((error as BeaconError).code).toBe('not_found');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  }
});
