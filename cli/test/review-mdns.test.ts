/**
 * A hostile `_beacon._tcp` responder on the LAN (network namespaces only, nothing leaves the
 * test): it answers the CLI's question first, after a burst of garbage datagrams and floods of
 * unrelated records, pointing at its own HTTP server that logs every Authorization header.
 * The CLI must not crash, must not print its escape sequences raw, keeps its memory bounded,
 * and never hands it the bearer token.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, netnsUnavailable, REPO_ROOT, waitFor, type Lan } from '@beacon/testing';
import { BIN, type CliResult } from './helpers';

const unavailable = netnsUnavailable();
const INSTANCE = 'evil\u001b]0;pwned\u0007._beacon._tcp.local';
const PORT = 8097;
let lan: Lan;
let dir: string;
let responder: ChildProcess;
let log = '';

const RESPONDER = `
const dgram = require('node:dgram');
const http = require('node:http');
const [mdnsPath, ip, port, instance] = process.argv.slice(2);
const mdns = require(mdnsPath)({ interface: ip, bind: '0.0.0.0', reuseAddr: true });
const garbage = dgram.createSocket({ type: 'udp4', reuseAddr: true });
mdns.on('query', (query) => {
  if (!query.questions.some((q) => q.name === '_beacon._tcp.local')) return;
  for (let i = 0; i < 20; i += 1) garbage.send(require('node:crypto').randomBytes(200 + i * 50), 5353, '224.0.0.251');
  // Records no one asked for, under ever new names: a client that keeps them all grows without bound.
  for (let burst = 0; burst < 20; burst += 1) {
    const answers = [];
    for (let i = 0; i < 50; i += 1) {
      answers.push({ name: 'flood-' + burst + '-' + i + '._beacon._tcp.local', type: 'SRV', data: { port: 1, target: 'nowhere-' + burst + '-' + i + '.local' } });
    }
    mdns.respond({ answers });
  }
  mdns.respond({
    answers: [{ name: '_beacon._tcp.local', type: 'PTR', data: instance }],
    additionals: [
      { name: instance, type: 'SRV', data: { port: Number(port), target: 'evil.local' } },
      { name: 'evil.local', type: 'A', data: ip },
    ],
  });
});
http
  .createServer((request, response) => {
    console.log('request ' + request.url + ' authorization=' + (request.headers.authorization || 'none'));
    response.setHeader('content-type', 'application/json');
    response.end('{"status":"ok"}');
  })
  .listen(Number(port), ip, () => console.log('listening'));
`;

/** `beacon <args>` inside the CLI's host, with only PATH and `env` in its environment. */
function cliOnLan(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const host = lan.hosts[1] as Lan['hosts'][0];
  const vars = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  return new Promise((resolve) => {
    const child = host.spawn('env', ['-i', `PATH=${process.env.PATH ?? ''}`, ...vars, process.execPath, BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe.skipIf(unavailable !== null)(`beacon and a hostile mDNS responder${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  beforeAll(async () => {
    lan = createLan(2);
    dir = mkdtempSync(join(tmpdir(), 'beacon-cli-mdns-review-'));
    const script = join(dir, 'responder.cjs');
    writeFileSync(script, RESPONDER);
    const mdnsPath = createRequire(join(REPO_ROOT, 'cli', 'package.json')).resolve('multicast-dns');
    const host = lan.hosts[0] as Lan['hosts'][0];
    responder = host.spawn(process.execPath, [script, mdnsPath, host.ip, String(PORT), INSTANCE], { stdio: ['ignore', 'pipe', 'pipe'] });
    responder.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    responder.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitFor('the responder', () => log.includes('listening'), 15_000);
  });

  afterAll(() => {
    responder?.kill('SIGKILL');
    lan?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('survives the garbage and floods, and shows the instance name escaped', async () => {
    const result = await cliOnLan(['ls']);
    expect(result.stderr).not.toMatch(/TypeError|\n\s+at /);
    expect(result.stderr).toContain(
      `found Beacon at http://${lan.hosts[0]?.ip}:${PORT} through mDNS (evil\\x1b]0;pwned\\x07._beacon._tcp.local)`,
    );
    expect(result.stderr).not.toContain('\u001b');
    // Its answer is not Beacon's: said, exit 1.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("answered with JSON that is not shaped like Beacon's answer");
  });

  it('never sends BEACON_TOKEN to a Beacon found over mDNS: anyone on the LAN can answer', async () => {
    const before = log;
    const result = await cliOnLan(['ls'], { BEACON_TOKEN: 'secret-token' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('a token is only sent to a URL you give');
    expect(log).not.toContain('secret-token');
    expect(log.slice(before.length)).not.toContain('request');
  });
});
