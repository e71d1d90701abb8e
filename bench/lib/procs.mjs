/** Child processes, ports and CPU accounting for the benchmark. Everything started here is killed on exit. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitUntil as waitFor } from '../../scripts/lib/tools.mjs';

export { freePort, sleep } from '../../scripts/lib/tools.mjs';

const children = new Set();

/** Spawns a long-running child whose output is kept; it is killed when this process exits. */
export function startProcess(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const proc = { name, child, output: '', exited: false, exitCode: null };
  child.stdout.on('data', (chunk) => (proc.output += chunk));
  child.stderr.on('data', (chunk) => (proc.output += chunk));
  proc.exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      proc.exited = true;
      proc.exitCode = code ?? signal;
      children.delete(proc);
      resolve(proc.exitCode);
    }),
  );
  child.once('error', (error) => {
    proc.output += `\nspawn error: ${error.message}`;
  });
  children.add(proc);
  return proc;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. */
export async function stopProcess(proc, graceMs = 8000) {
  if (!proc || proc.exited) return proc?.exitCode;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const code = await proc.exit;
  clearTimeout(timer);
  return code;
}

/** Kills (SIGKILL) every child still running: the last resort on failure or Ctrl-C. */
export function killAll() {
  for (const proc of children) {
    try {
      proc.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Polls `check` until it returns truthy; throws with the process's output on timeout or when it exits first. */
export async function waitUntil(what, check, { timeoutMs = 20_000, proc } = {}) {
  try {
    await waitFor(what, check, { timeoutMs, stop: () => (proc?.exited ? `${proc.name} exited (${proc.exitCode})` : null) });
  } catch (error) {
    throw new Error(proc ? `${error.message}\n--- ${proc.name} output ---\n${proc.output.slice(-4000)}` : error.message, { cause: error });
  }
}

export async function httpOk(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return response.status === 200;
}

// --- CPU accounting (Linux /proc): how much of the machine went to processes that are not ours ---

const HZ = 100; // USER_HZ; `getconf CLK_TCK` is 100 on Linux

function procTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); utime=14, stime=15, cutime=16, cstime=17
    return { self: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return { self: 0, children: 0 };
  }
}

function systemBusy() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
  return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/**
 * Starts a CPU window over the given server pids. `end()` returns, in cores (1.0 = one
 * core busy for the whole window): the server under test, our other processes (wrk,
 * nats-server, the idle server, this script) and everything else on the machine.
 * wrk is counted through this process's `cutime` once it has been reaped.
 */
export function cpuWindow(serverPid, otherPids) {
  const started = process.hrtime.bigint();
  const sys0 = systemBusy();
  const server0 = procTimes(serverPid).self;
  const others0 = otherPids.map((pid) => procTimes(pid).self);
  const me0 = procTimes(process.pid);
  return {
    end() {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const sys1 = systemBusy();
      const server = procTimes(serverPid).self - server0;
      const others = otherPids.reduce((sum, pid, i) => sum + procTimes(pid).self - others0[i], 0);
      const me1 = procTimes(process.pid);
      const mine = me1.self - me0.self + (me1.children - me0.children);
      const busy = sys1.busy - sys0.busy;
      const cores = (ticks) => Math.round((ticks / HZ / seconds) * 100) / 100;
      return {
        seconds: Math.round(seconds * 10) / 10,
        server_cores: cores(server),
        bench_cores: cores(others + mine),
        foreign_cores: Math.max(0, cores(busy - server - others - mine)),
        machine_busy_cores: cores(busy),
      };
    },
  };
}

/**
 * Like cpuWindow, per process: `named` maps a label to a pid (or several). `end()` returns,
 * in cores, each label's CPU, `bench` (this script plus children it reaped in the window),
 * `other` (processes this benchmark did not start) and `machine_busy` (of all cores).
 * Do not stop a listed process inside the window (its time would count twice: as itself
 * and, once reaped, in `bench`).
 */
export function cpuByProcess(named) {
  const entries = Object.entries(named).map(([label, pids]) => [label, [].concat(pids).filter(Boolean)]);
  const started = process.hrtime.bigint();
  const sys0 = systemBusy();
  const before = entries.map(([, pids]) => pids.map((pid) => procTimes(pid).self));
  const me0 = procTimes(process.pid);
  return {
    end() {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const busy = systemBusy().busy - sys0.busy;
      const me1 = procTimes(process.pid);
      const mine = me1.self - me0.self + (me1.children - me0.children);
      const cores = (ticks) => Math.round((ticks / HZ / seconds) * 100) / 100;
      const out = { seconds: Math.round(seconds * 10) / 10, cores: {} };
      let listed = 0;
      entries.forEach(([label, pids], i) => {
        const ticks = pids.reduce((sum, pid, j) => sum + Math.max(0, procTimes(pid).self - before[i][j]), 0);
        listed += ticks;
        out.cores[label] = cores(ticks);
      });
      out.cores.bench = cores(mine);
      out.other = Math.max(0, cores(busy - listed - mine));
      out.machine_busy = cores(busy);
      return out;
    },
  };
}
