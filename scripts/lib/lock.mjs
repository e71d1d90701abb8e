/**
 * One launcher per data directory. Two launchers on one SQLite file and one NATS store
 * would corrupt neither cleanly nor visibly; and the second would otherwise stop at the
 * first port it finds taken, blaming that port instead of naming the Beacon that holds it.
 * BEACON_DATA_DIR/beacon.pid says who runs this data directory: the launcher's pid, its
 * URL, its ports and when it started.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const lockPath = (dataDir) => join(dataDir, 'beacon.pid');

/** Whether `pid` is a live Beacon launcher (a Node process running start.mjs), other than this one. */
function isLauncher(pid) {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's; still a holder worth naming.
    if (error.code !== 'EPERM') return false;
  }
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((arg) => basename(arg) === 'start.mjs');
  } catch {
    // No /proc (macOS): a live pid is taken at its word.
    return process.platform !== 'linux';
  }
}

function readHolder(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Takes the data directory for this launcher, writing `info` (url, ports) beside its pid.
 * Returns `{ holder }` when a live launcher has it; a file left by one that is gone (or by
 * a pid now reused by something else) is replaced. `release()` removes the file if it is
 * still this launcher's.
 */
export function acquireLock(dataDir, info) {
  mkdirSync(dataDir, { recursive: true });
  const path = lockPath(dataDir);
  const mine = { pid: process.pid, startedAt: new Date().toISOString(), dataDir, ...info };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      // 'wx': created only if absent, so two launchers starting together cannot both win.
      writeFileSync(path, `${JSON.stringify(mine, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
      return { holder: null, release: () => release(path) };
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    if (holder && isLauncher(holder.pid)) return { holder, release: () => {} };
    try {
      unlinkSync(path);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
  }
  throw new Error(`could not take ${path}: another launcher keeps replacing it`);
}

function release(path) {
  if (readHolder(path)?.pid !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
