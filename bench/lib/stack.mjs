/**
 * The pieces every benchmark section starts: nats-server (JetStream, temp dir),
 * registry-api (temp SQLite file), the worker apps (ttl-reaper, health-prober), helper
 * children with an IPC channel, a NATS client for the bench itself, /metrics scraping
 * and a concurrent registration loader. Every port is OS-assigned; every process is
 * started through procs.mjs, so it is killed on exit, failure or Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, natsModule, tcpOpen } from '../../scripts/lib/tools.mjs';
import { freePort, httpOk, startProcess, stopProcess, waitUntil } from './procs.mjs';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = join(BENCH_DIR, '..');
export const RESULTS = join(BENCH_DIR, 'results');
export const appEntry = (app) => join(REPO, 'apps', app, 'dist', 'main.js');

/** A section's setting from its BENCH_* variable, or the default. */
export const envNumber = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);

export const log = (message) => process.stdout.write(`[bench] ${message}\n`);

const tmpDirs = new Set();
/** A temp dir (SQLite files, JetStream store, raw profiles) removed by `removeTmp` or, at the latest, on exit (Ctrl-C too). */
export function makeTmp(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.add(dir);
  return dir;
}
export function removeTmp(dir) {
  tmpDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', () => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

/** The workspace's NATS client (nats.js v2); null if `pnpm install` has not run. */
export function natsClientModule() {
  try {
    return natsModule();
  } catch {
    return null;
  }
}

/** What a section needs that is not here: nats-server, the built apps it starts, the NATS client. */
export function missingStack(apps, { natsClient = true } = {}) {
  const out = [];
  if (!findBinary('nats-server')) out.push('nats-server (Debian/Ubuntu: sudo apt-get install nats-server)');
  for (const app of apps) if (!existsSync(appEntry(app))) out.push(`apps/${app}/dist/main.js (run "pnpm build" first)`);
  if (natsClient && !natsClientModule()) out.push('the nats client in libs/platform/node_modules (run "pnpm install")');
  return out;
}

export async function startNats(tmp) {
  const port = await freePort();
  const proc = startProcess('nats-server', findBinary('nats-server'), [
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-sd',
    join(tmp, 'jetstream'),
  ]);
  await waitUntil(`nats-server on ${port}`, () => tcpOpen(port), { proc });
  return { proc, port, url: `nats://127.0.0.1:${port}` };
}

/** A minimal environment: nothing from the caller's shell (BEACON_MONGODB_URL, auth tokens) leaks in. */
function baseEnv(extra) {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...extra };
}

/** `env`: more of registry-api's variables; BENCH_SQLITE_SYNCHRONOUS sets BEACON_SQLITE_SYNCHRONOUS for every section (default: registry-api's own, full). */
export async function startRegistryApi(natsUrl, dbPath, cwd, { cpuProfDir, name = 'registry-api', env = {} } = {}) {
  const port = await freePort();
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const proc = startProcess(name, process.execPath, [...nodeArgs, appEntry('registry-api')], {
    cwd,
    env: baseEnv({
      NATS_URL: natsUrl,
      BEACON_PORT: String(port),
      BEACON_HOST: '127.0.0.1',
      BEACON_SQLITE_PATH: dbPath,
      // The loaders are one client at thousands of registrations a second, into catalogs past any sensible cap.
      BEACON_REGISTRATIONS_PER_SECOND: '0',
      BEACON_MAX_SERVICES: '0',
      ...(process.env.BENCH_SQLITE_SYNCHRONOUS ? { BEACON_SQLITE_SYNCHRONOUS: process.env.BENCH_SQLITE_SYNCHRONOUS } : {}),
      ...env,
    }),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`${name} /health`, () => httpOk(`${url}/health`), { proc, timeoutMs: 30_000 });
  return { proc, port, url, name };
}

/** ttl-reaper or health-prober on a free HTTP port (its /health, /ready, /metrics); resolves once /ready answers 200. */
export async function startWorker(app, natsUrl, cwd, { env = {}, name = app, cpuProfDir } = {}) {
  const port = await freePort();
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  // The bench's WebSocket clients all come from 127.0.0.1: the gateway's per-address cap would refuse them.
  const caps = app === 'realtime-gateway' ? { GATEWAY_MAX_CLIENTS_PER_ADDRESS: '0' } : {};
  const proc = startProcess(name, process.execPath, [...nodeArgs, appEntry(app)], {
    cwd,
    env: baseEnv({ NATS_URL: natsUrl, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', MEMBER_ID: name, ...caps, ...env }),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`${name} /ready`, () => httpOk(`${url}/ready`), { proc, timeoutMs: 30_000 });
  return { proc, port, url, name, startedAt: Date.now() };
}

/**
 * A bench helper script (bench/*.mjs) as a child with an IPC channel. Resolves once it
 * sends `{ready: true, ...}`; `ask(message, key)` sends a message and resolves with the
 * next reply carrying `key`.
 */
export async function startHelper(name, script, args = [], { timeoutMs = 20_000, nodeArgs = [] } = {}) {
  const proc = startProcess(name, process.execPath, [...nodeArgs, join(BENCH_DIR, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${proc.output.slice(-2000)}`)), timeoutMs);
    proc.child.on('message', (message) => {
      if (message?.ready) {
        clearTimeout(timer);
        resolve(message);
      }
    });
    proc.exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready:\n${proc.output.slice(-2000)}`));
    });
  });
  const ask = (message, key, wait = 5000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not answer ${JSON.stringify(message)}`)), wait);
      const onMessage = (reply) => {
        if (reply?.[key] === undefined) return;
        clearTimeout(timer);
        proc.child.off('message', onMessage);
        resolve(reply[key]);
      };
      proc.child.on('message', onMessage);
      proc.child.send(message);
    });
  return { proc, ready, ask, send: (message) => proc.child.connected && proc.child.send(message) };
}

export async function stopAll(procs) {
  await Promise.all(procs.filter(Boolean).map((p) => stopProcess(p.proc ?? p)));
}

/** The bench's own NATS connection (nats.js v2): `on(subject, fn(data, raw))` with JSON-decoded payloads. */
export async function natsBenchClient(url) {
  const nats = natsClientModule();
  const nc = await nats.connect({ servers: url, name: 'beacon-bench', maxReconnectAttempts: 0 });
  const decoder = new TextDecoder();
  return {
    nc,
    on(subject, handler, { decode = true } = {}) {
      return nc.subscribe(subject, {
        callback: (error, message) => {
          if (error) return;
          handler(decode ? JSON.parse(decoder.decode(message.data)) : null, message);
        },
      });
    },
    flush: () => nc.flush(),
    close: () => nc.close(),
  };
}

/** Prometheus text format → [{name, labels, value}] (comments skipped). */
export function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

export async function scrapeMetrics(baseUrl) {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  return parsePrometheus(await response.text());
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function metricSum(samples, name, labels = {}) {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/**
 * POSTs every body to /api/v1/services/register with `concurrency` requests in flight.
 * Returns the registered services (in body order), failures and timing.
 */
export async function registerAll(url, bodies, concurrency) {
  const services = new Array(bodies.length);
  let next = 0;
  let failures = 0;
  let firstError = null;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const n = next++;
      const response = await fetch(`${url}/api/v1/services/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(bodies[n]),
      });
      const text = await response.text();
      if (response.status === 201) services[n] = JSON.parse(text);
      else {
        failures += 1;
        firstError ??= `${response.status}: ${text.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    services,
    failures,
    first_error: firstError,
    seconds: Math.round(seconds * 100) / 100,
    rps: Math.round(bodies.length / seconds),
  };
}

export function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: null };
  }
}

/** The report's copy of a section's summary rows (info rows pass nothing) and whether every target was met. */
export function recordRows(report, rows) {
  report.rows = rows.map(({ scenario, value, baseline, ratio, target, verdict, pass, info }) => ({
    scenario,
    value,
    baseline,
    ratio,
    target,
    verdict,
    pass: info ? null : pass,
  }));
  report.targets_met = rows.every((row) => row.info || row.pass);
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '-';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

/** Nearest-rank percentile of a numeric array (sorted here). */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A plain-text or markdown table from a header and rows of strings. `left` = column indexes padded right. */
export function textTable(header, rows, { markdown = false, left = [0] } = {}) {
  if (markdown) {
    return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((cells) => `| ${cells.join(' | ')} |`)].join(
      '\n',
    );
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((cells) => String(cells[i]).length)));
  const line = (cells) => cells.map((c, i) => (left.includes(i) ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
