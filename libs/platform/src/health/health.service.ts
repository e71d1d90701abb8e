import { Inject, Injectable } from '@nestjs/common';
import { PLATFORM_OPTIONS, type PlatformOptions } from '../platform.options';

export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** The body of `/ready`: `{ status: "ready" }` as the original Beacon answered it, plus what was checked. */
export interface ReadinessBody {
  status: 'ready' | 'not_ready';
  checks: Record<string, boolean>;
}

/** Liveness and readiness for `/health` and `/ready`; apps register what readiness needs. */
@Injectable()
export class HealthService {
  private readonly startedAt = Date.now();
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly details = new Map<string, () => unknown>();
  private shuttingDown = false;

  constructor(@Inject(PLATFORM_OPTIONS) private readonly options: PlatformOptions) {}

  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** A part of `/health`'s body under `name` (mdns-announcer: which interfaces it answers on, or why none). */
  addHealthDetail(name: string, detail: () => unknown): void {
    this.details.set(name, detail);
  }

  healthDetails(): Record<string, unknown> {
    return Object.fromEntries([...this.details].map(([name, detail]) => [name, detail()]));
  }

  /** From SIGTERM on, readiness fails so load balancers stop sending traffic. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000);
  }

  get appName(): string {
    return this.options.appName;
  }

  get version(): string {
    return this.options.version;
  }

  /** The `/ready` answer; the caller sends it with 200, or 503 when `ready` is false. */
  async readinessBody(): Promise<{ ready: boolean; body: ReadinessBody }> {
    const report = await this.readiness();
    return { ready: report.ready, body: { status: report.ready ? 'ready' : 'not_ready', checks: report.checks } };
  }

  async readiness(): Promise<ReadinessReport> {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    if (this.shuttingDown) checks.shutting_down = false;
    return { ready: Object.values(checks).every(Boolean), checks };
  }
}
