/**
 * Keeps the launcher's processes running: one that dies while Beacon is not stopping is
 * started again after a growing pause, and the launcher says why it died. A process that
 * keeps dying right after its start (a bad variable, a port taken) is given up on, so a
 * broken start ends with its own last lines instead of looping out of sight.
 */

/**
 * When to restart after an exit, from how long the process had run: 1 s, 2 s, 4 s … up to
 * 30 s, from 1 s again once a run lasted a minute (it was healthy, the next death is news).
 * `giveUp` after `maxQuickFailures` runs in a row that each ended within `quickMs`.
 */
export function createRestartPolicy({
  firstDelayMs = 1000,
  maxDelayMs = 30_000,
  resetAfterMs = 60_000,
  quickMs = 10_000,
  maxQuickFailures = 5,
} = {}) {
  let attempt = 0;
  let quickFailures = 0;
  return {
    quickMs,
    maxQuickFailures,
    next(ranMs) {
      if (ranMs >= resetAfterMs) attempt = 0;
      quickFailures = ranMs < quickMs ? quickFailures + 1 : 0;
      const delayMs = Math.min(firstDelayMs * 2 ** attempt, maxDelayMs);
      attempt += 1;
      return { delayMs, quickFailures, giveUp: quickFailures >= maxQuickFailures };
    },
  };
}

/** "code 1" or "signal SIGKILL": what a child's exit says of its death. */
export const describeExit = (code, signal) => (signal ? `signal ${signal}` : `code ${code}`);

const seconds = (ms) => `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;

/**
 * One process the launcher runs, restarted by its policy. `spawnChild()` starts it (stdout
 * and stderr piped); `onLine(line)` gets each line it writes; `say(line)` is the launcher's
 * own log; `onGiveUp(message)` stops the stack; `stopping()` is true once shutdown began,
 * after which nothing is restarted.
 */
export class SupervisedProcess {
  constructor({ name, spawnChild, onLine, say, onGiveUp, stopping, policy = createRestartPolicy(), tailSize = 10 }) {
    Object.assign(this, { name, spawnChild, onLine, say, onGiveUp, stopping, policy, tailSize });
    this.tail = [];
    this.child = null;
    this.restartTimer = null;
    /** Starts so far: a wait for the process to answer restarts its clock when this grows. */
    this.starts = 0;
  }

  get running() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start() {
    this.restartTimer = null;
    if (this.stopping()) return;
    const child = this.spawnChild();
    const startedAt = Date.now();
    this.child = child;
    this.starts += 1;
    // The last lines are this run's: the previous run's are in the log above.
    this.tail = [];
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.on('data', (chunk) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) this.remember(line);
      });
      stream.on('end', () => buffered && this.remember(buffered));
    }
    child.once('exit', (code, signal) => {
      const ranMs = Date.now() - startedAt;
      // Its last words may still be in the pipes: wait for them to drain ('close'), but not
      // for long, since a grandchild (a ROLE_HOOK run) can hold them open.
      let reported = false;
      const report = () => {
        if (!reported) this.died(code, signal, ranMs);
        reported = true;
      };
      const drained = setTimeout(report, 300);
      child.once('close', () => (clearTimeout(drained), report()));
    });
    child.once('error', (error) => this.remember(`could not start: ${error.message}`));
    this.say(`${this.name} ${this.starts === 1 ? 'started' : 'restarted'} (pid ${child.pid})`);
  }

  remember(line) {
    this.tail.push(line);
    if (this.tail.length > this.tailSize) this.tail.shift();
    this.onLine(line);
  }

  lastLines(count = this.tailSize) {
    const lines = this.tail.slice(-count);
    return lines.length > 0 ? lines.map((line) => `  ${line}`).join('\n') : '  (it wrote nothing)';
  }

  died(code, signal, ranMs) {
    if (this.stopping()) return;
    const why = `${this.name} exited (${describeExit(code, signal)}) after ${seconds(ranMs)}`;
    const { delayMs, quickFailures, giveUp } = this.policy.next(ranMs);
    if (giveUp) {
      this.onGiveUp(
        `${why}: ${quickFailures} failures in a row, each within ${seconds(this.policy.quickMs)} of its start; stopping Beacon. ` +
          `Its last lines:\n${this.lastLines()}`,
      );
      return;
    }
    this.say(`${why}; restarting it in ${seconds(delayMs)}. Its last lines:\n${this.lastLines(5)}`);
    this.restartTimer = setTimeout(() => this.start(), delayMs);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; cancels a pending restart. True if it was running. */
  async stop(graceMs = 15_000) {
    clearTimeout(this.restartTimer ?? undefined);
    this.restartTimer = null;
    if (!this.running) return false;
    const child = this.child;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    return true;
  }

  /** The launcher's last resort when it exits abruptly. */
  killNow() {
    if (this.running) this.child.kill('SIGKILL');
  }
}
