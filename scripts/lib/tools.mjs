/**
 * What the plain-JS side (the launcher, `pnpm events`, the benchmark) needs from the
 * machine, written once: binaries on PATH, free ports, waiting for a condition, and the
 * workspace's NATS client. The TypeScript tests have their own in libs/testing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect as tcpConnect, createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Debian keeps nginx and friends in /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/bin', '/usr/bin'];

/** The absolute path of an executable on PATH (or in the sbin directories), or null. */
export function findBinary(name) {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** A TCP port that is free on loopback right now (the OS picks it; never a fixed port). */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Whether `port` can be listened on at `host` now. */
export function portFree(port, host = '0.0.0.0') {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

/** Whether something accepts TCP connections on `port`. */
export function tcpOpen(port, host = '127.0.0.1') {
  return new Promise((done) => {
    const socket = tcpConnect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * Polls `check` until it returns truthy. Throws on timeout, naming `what` and the last
 * error `check` threw; `stop()` returning a reason ends the wait early with that reason.
 */
export async function waitUntil(what, check, { timeoutMs = 20_000, intervalMs = 100, stop = () => null } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    const stopped = stop();
    if (stopped) throw new Error(`${stopped} while waiting for ${what}`);
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (${lastError.message})` : ''}`);
    await sleep(intervalMs);
  }
}

/** The workspace's NATS client (nats.js v2): pnpm keeps it with libs/platform, which depends on it. */
export function natsModule() {
  return createRequire(join(REPO_ROOT, 'libs', 'platform', 'package.json'))('nats');
}
