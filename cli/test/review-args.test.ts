/**
 * The CLI against a real registry with awkward input: a metadata value the registry stores with
 * an escape sequence in it (names and tags are refused, metadata values are freer), `=` inside a
 * --meta value, and a --meta key given twice.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, startRegistry, type RegistryFixture } from '@beacon/testing';
import type { Service } from '@beacon/contracts';
import { cli, Tmux, type CliResult } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'beacon-args-review-'));

let registry: RegistryFixture;
const run = (...args: string[]): Promise<CliResult> => cli(args, { BEACON_URL: registry.api.url });

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('beacon with awkward input', () => {
  it('a stored metadata value holding an OSC title sequence and a clear-screen is shown escaped by get; --json is exact', async () => {
    const evil = '\u001b]0;pwned\u0007\u001b[2J';
    const registered = await registry.register({ name: 'review-meta', host: '127.0.0.1', port: 8124, metadata: { banner: evil } });
    expect(registered.metadata).toEqual({ banner: evil });
    const shown = await run('get', registered.service_id);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('banner=\\x1b]0;pwned\\x07\\x1b[2J');
    expect(shown.stdout).not.toContain('\u001b');
    const exact = await run('get', registered.service_id, '--json');
    expect((JSON.parse(exact.stdout) as Service).metadata).toEqual({ banner: evil });
  });

  it('--meta keeps every "=" after the first in the value, for register and the ls filter', async () => {
    const registered = await run(
      'register',
      '--name',
      'review-eq',
      '--host',
      '127.0.0.1',
      '--port',
      '8125',
      '--meta',
      'url=http://x/?a=b',
      '-q',
    );
    expect(registered.code, registered.stderr).toBe(0);
    const found = await run('ls', '--meta', 'url=http://x/?a=b', '-q');
    expect(found.stdout.trim()).toBe(registered.stdout.trim());
  });

  it('a --meta key given twice is a usage error (2), not the last one silently winning', async () => {
    const twice = await run('register', '--name', 'review-dup', '--host', '127.0.0.1', '--port', '8126', '--meta', 'k=1', '--meta', 'k=2');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('--meta k is given twice');
    const filter = await run('ls', '--meta', 'k=1', '--meta', 'k=2');
    expect(filter.code).toBe(2);
    expect((await run('ls', '--name', 'review-dup', '-q')).stdout).toBe('');
  });

  it('a --url, BEACON_URL or BEACON_GATEWAY_URL that is not an http(s) URL is a usage error (2); run then does not start the command', async () => {
    const plain = await cli(['--url', 'localhost:8097', 'ls']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('beacon: --url or BEACON_URL must be a URL starting with http:// or https://, not "localhost:8097"');
    expect((await cli(['ls'], { BEACON_URL: 'ftp://127.0.0.1:1' })).code).toBe(2);
    const gateway = await cli(['watch'], { BEACON_GATEWAY_URL: '127.0.0.1:8098' });
    expect(gateway.code).toBe(2);
    expect(gateway.stderr).toContain('--gateway-url or BEACON_GATEWAY_URL must be a URL');
    const marker = join(dir, 'started');
    const run = await cli(['run', '--name', 'r', '--port', '80', '--', 'touch', marker], { BEACON_URL: 'localhost:8097' });
    expect(run.code).toBe(2);
    expect(existsSync(marker)).toBe(false);
  });

  it('an empty id is a usage error (2): get "" would ask GET /api/v1/services/, the list', async () => {
    for (const args of [
      ['get', ''],
      ['deregister', ''],
      ['heartbeat', ''],
      ['pings', ''],
      ['incidents', 'get', ''],
      ['webhooks', 'rm', ''],
    ]) {
      const result = await run(...args);
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('an empty argument is not an id or a name');
    }
  });

  it('watch with a filter the gateway refuses (--event bogus) exits 1 with its detail, and watch at registry-api (no live feed) says where to point', async () => {
    const gateway = await startApp('realtime-gateway', {
      env: { NATS_URL: registry.nats.url },
      portVariable: 'HTTP_PORT',
      readyPath: '/ready',
    });
    try {
      const refused = await run('watch', '--gateway-url', gateway.url, '--event', 'bogus');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^beacon: the gateway refused the watch \(HTTP 400\): .*bogus/m);
      const registryOnly = await run('watch', '--gateway-url', registry.api.url);
      expect(registryOnly.code).toBe(1);
      expect(registryOnly.stderr).toContain('has no live feed at /api/v1/ws (HTTP 404)');
    } finally {
      await gateway.stop();
    }
  });

  it('status on a terminal colours its words (not printed as escaped codes), and shows a hostile elector escaped', async () => {
    const elector = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ mode: 'server', node_id: 'node\u001b]0;pwned\u0007', backend: 'nats', server: null }));
    });
    await new Promise<void>((resolve) => elector.listen(0, '127.0.0.1', resolve));
    const tmux = new Tmux({ BEACON_URL: registry.api.url });
    try {
      tmux.type(`beacon status --elector-url http://127.0.0.1:${(elector.address() as AddressInfo).port}/discovery; echo "done=$?"`);
      const screen = await tmux.waitForScreen('the status', (text) => /done=\d/.test(text));
      expect(screen).toContain('done=0');
      expect(screen).toMatch(/elector\s+server node node\\x1b\]0;pwned\\x07 \(nats\)/);
      expect(screen).not.toMatch(/\\x1b\[\d+m/);
      // eslint-disable-next-line no-control-regex -- the colour code itself
      expect(tmux.screen(true)).toMatch(/\u001b\[32m(healthy|ok)/);
    } finally {
      tmux.dispose();
      elector.closeAllConnections();
      await new Promise((resolve) => elector.close(resolve));
    }
  });

  it('status stops reading an elector answer that never ends (at 1 MiB), and shows it unreachable', async () => {
    let written = 0;
    const elector = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.write('{"mode":"');
      const chunk = 'a'.repeat(64 * 1024);
      const more = (): void => {
        while (!response.destroyed && response.write(chunk)) written += chunk.length;
        if (!response.destroyed) response.once('drain', more);
      };
      response.on('close', () => response.removeAllListeners('drain'));
      more();
    });
    await new Promise<void>((resolve) => elector.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(elector.address() as AddressInfo).port}/discovery`;
    try {
      const result = await run('status', '--elector-url', url);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`unreachable (${url})`);
      // Read for its whole 2 s, an endless body on loopback reaches hundreds of MB.
      expect(written).toBeLessThan(32 * 1024 * 1024);
    } finally {
      elector.closeAllConnections();
      await new Promise((resolve) => elector.close(resolve));
    }
  });
});
