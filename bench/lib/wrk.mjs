/** Runs wrk and parses the JSON line printed by bench/wrk/report.lua. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WRK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'wrk');

export function findWrk() {
  for (const candidate of [process.env.WRK, '/usr/bin/wrk', '/usr/local/bin/wrk']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * @param {object} o
 * @param {string} o.url      full URL (GET scenarios use it as is; POST scenarios use its origin)
 * @param {'register'|'get'} o.mode
 * @param {string} [o.prefix] unique name prefix for registrations
 * @param {number} o.threads @param {number} o.connections @param {number} o.seconds
 * @param {(pid:number)=>void} [o.onStart]
 */
export function runWrk({ url, mode, prefix = 'svc', threads, connections, seconds, onStart }) {
  const script = join(WRK_DIR, mode === 'register' ? 'register.lua' : 'report.lua');
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', script, url];
  if (mode === 'register') args.push('--', prefix);
  return new Promise((resolve, reject) => {
    const child = spawn(findWrk() ?? 'wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    onStart?.(child.pid);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk exited ${code}:\n${out}`));
        return;
      }
      const raw = JSON.parse(line.slice('WRK_JSON '.length));
      const seconds = raw.duration_us / 1e6;
      const errors = Object.values(raw.errors).reduce((a, b) => a + b, 0);
      resolve({
        rps: Math.round((raw.requests / seconds) * 10) / 10,
        ok_rps: Math.round(((raw.requests - raw.errors.status) / seconds) * 10) / 10,
        requests: raw.requests,
        p50_ms: raw.latency_us.p50 / 1000,
        p90_ms: raw.latency_us.p90 / 1000,
        p99_ms: raw.latency_us.p99 / 1000,
        max_ms: raw.latency_us.max / 1000,
        mean_ms: Math.round(raw.latency_us.mean) / 1000,
        errors: raw.errors,
        error_count: errors,
        bytes_per_response: raw.requests > 0 ? Math.round(raw.bytes / raw.requests) : 0,
        command: `wrk ${args.join(' ')}`,
        raw,
        output: out
          .split('\n')
          .filter((l) => !l.startsWith('WRK_JSON '))
          .join('\n'),
      });
    });
  });
}
