import type { Counter, Logger } from '@beacon/platform';
import { spawn } from 'node:child_process';
import type { RoleDecision } from '../election/decision';
import { envFileContent, writeFileAtomic } from './role-env';

export interface RoleHookSettings {
  /** Shell command (`sh -c`), or undefined for none. */
  command: string | undefined;
  /** Env file rewritten on every change, or undefined for none. */
  envFile: string | undefined;
  timeoutMs: number;
  maxBackoffMs: number;
  /** First retry delay (1 s; doubled per failure). */
  baseBackoffMs?: number;
}

export interface RoleChangeJob {
  decision: RoleDecision;
  variables: Record<string, string>;
}

interface HookOutcome {
  result: 'ok' | 'failed' | 'timeout';
  exit: number | string | null;
  output: string;
  ms: number;
}

const OUTPUT_TAIL = 4096;
const KILL_GRACE_MS = 5000;

/** 1 s, 2 s, 4 s, ... up to the cap. */
export function hookBackoffMs(attempt: number, maxBackoffMs: number, baseMs = 1000): number {
  return Math.min(maxBackoffMs, baseMs * 2 ** Math.min(attempt, 30));
}

/**
 * Applies role changes to the host: writes the env file, then runs the hook, one change
 * at a time. A failure is logged and retried with backoff; it never throws into the
 * elector. Only the newest change matters: one that arrives while a hook runs waits for
 * that run to end (a half-stopped stack is worse than a late one) and then goes next,
 * skipping anything in between; it also cancels a pending retry of an older change.
 * Before each run, `isCurrent` is asked whether the change still holds — it checks the
 * lease deadline first, so a server hook is never run by a node whose lease lapsed.
 */
export class RoleHookRunner {
  private latest: RoleChangeJob | null = null;
  private generation = 0;
  private attempt = 0;
  private running: Promise<void> | null = null;
  /** Set before `drain` starts: its first `isCurrent` may submit a newer job synchronously. */
  private draining = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly settings: RoleHookSettings,
    private readonly logger: Logger,
    private readonly runs: Counter<'result'>,
    private readonly isCurrent: (decision: RoleDecision) => boolean,
  ) {}

  get enabled(): boolean {
    return this.settings.command !== undefined || this.settings.envFile !== undefined;
  }

  submit(job: RoleChangeJob): void {
    if (!this.enabled || this.stopped) return;
    this.latest = job;
    this.generation += 1;
    this.attempt = 0;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.kick();
  }

  /** Resolves once nothing runs (or after `timeoutMs`); true when idle. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running && Date.now() < deadline) {
      await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, Math.max(1, deadline - Date.now())))]);
    }
    return this.running === null;
  }

  /** True while a change has not been applied yet (running, or waiting for a retry). */
  get pending(): boolean {
    return this.latest !== null;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    this.running = this.drain().finally(() => {
      this.draining = false;
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    while (this.latest && !this.stopped) {
      const job = this.latest;
      const generation = this.generation;
      // May step the node down (lease deadline passed), which submits a newer job at once.
      if (!this.isCurrent(job.decision)) {
        if (generation === this.generation) this.latest = null;
        continue;
      }
      const ok = await this.apply(job);
      if (generation !== this.generation) continue;
      if (ok) {
        this.latest = null;
        return;
      }
      const delay = hookBackoffMs(this.attempt, this.settings.maxBackoffMs, this.settings.baseBackoffMs);
      this.attempt += 1;
      this.logger.warn({ role: job.decision.role, retry_in_ms: delay, attempt: this.attempt }, 'role change not applied; retrying');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.kick();
      }, delay);
      return;
    }
  }

  private async apply(job: RoleChangeJob): Promise<boolean> {
    if (this.settings.envFile) {
      try {
        await writeFileAtomic(this.settings.envFile, envFileContent(job.variables));
      } catch (error) {
        this.runs.inc({ result: 'env_file_failed' });
        this.logger.error({ err: error, file: this.settings.envFile }, 'could not write ROLE_ENV_FILE');
        return false;
      }
    }
    if (!this.settings.command) return true;
    const outcome = await this.runHook(this.settings.command, job.variables);
    this.runs.inc({ result: outcome.result });
    const context = { role: job.decision.role, server: job.decision.server, exit: outcome.exit, ms: outcome.ms };
    if (outcome.result === 'ok') {
      this.logger.info(context, 'ROLE_HOOK ran');
      return true;
    }
    this.logger.error({ ...context, result: outcome.result, output: outcome.output }, 'ROLE_HOOK failed');
    return false;
  }

  private runHook(command: string, variables: Record<string, string>): Promise<HookOutcome> {
    const started = performance.now();
    return new Promise((resolve) => {
      let output = '';
      let timedOut = false;
      const keep = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
      };
      // Its own process group, so a timeout kills what the shell started too.
      const child = spawn('/bin/sh', ['-c', command], {
        env: { ...process.env, ...variables },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const signalGroup = (signal: NodeJS.Signals): void => {
        try {
          if (child.pid) process.kill(-child.pid, signal);
        } catch {
          /* already gone */
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup('SIGTERM');
        setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS).unref();
      }, this.settings.timeoutMs);
      const finish = (exit: number | string | null, spawnError?: Error): void => {
        clearTimeout(timer);
        const ms = Math.round(performance.now() - started);
        if (spawnError) output += `\n${spawnError.message}`;
        const result = timedOut ? 'timeout' : exit === 0 ? 'ok' : 'failed';
        resolve({ result, exit, output: output.trim(), ms });
      };
      child.once('error', (error) => finish(null, error));
      child.once('close', (code, signal) => finish(code ?? signal));
    });
  }
}
