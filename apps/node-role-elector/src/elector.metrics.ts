import type { NodeRole } from '@beacon/contracts';
import type { Counter, Gauge, MetricsService } from '@beacon/platform';

export type RoleState = NodeRole | 'undecided';
const ROLE_STATES: readonly RoleState[] = ['server', 'agent', 'undecided'];

/** node-role-elector's metrics (`beacon_elector_*`), created once and shared by its parts. */
export class ElectorMetrics {
  /** 1 for the current role, 0 for the others (a state set). */
  readonly role: Gauge<'role'>;
  readonly roleChanges: Counter<'role'>;
  /** Lease refreshes by result: ok, lost (revision moved: expired or taken), failed (NATS error/timeout). */
  readonly leaseRefreshes: Counter<'result'>;
  /** Attempts to take the lease: won, held (someone has it), failed. */
  readonly leaseAttempts: Counter<'result'>;
  readonly stepDowns: Counter<'reason'>;
  /** Hook runs by result: ok, failed, timeout, env_file_failed. */
  readonly hookRuns: Counter<'result'>;
  readonly fencingToken: Gauge;

  constructor(metrics: MetricsService) {
    this.role = metrics.gauge('beacon_elector_role', 'This node’s role: 1 for the current one', ['role']);
    this.roleChanges = metrics.counter(
      'beacon_elector_role_changes_total',
      'Role changes (including a new server to follow), by new role',
      ['role'],
    );
    this.leaseRefreshes = metrics.counter(
      'beacon_elector_lease_refreshes_total',
      'Refreshes of the server lease, by result (ok, lost, failed)',
      ['result'],
    );
    this.leaseAttempts = metrics.counter(
      'beacon_elector_lease_attempts_total',
      'Attempts to take the server lease, by result (won, held, failed)',
      ['result'],
    );
    this.stepDowns = metrics.counter('beacon_elector_step_downs_total', 'Times this node gave up the server role, by reason', ['reason']);
    this.hookRuns = metrics.counter(
      'beacon_elector_hook_runs_total',
      'ROLE_HOOK runs and env file writes, by result (ok, failed, timeout, env_file_failed)',
      ['result'],
    );
    this.fencingToken = metrics.gauge(
      'beacon_elector_fencing_token',
      'Fencing token (lease revision) of the tenure this node follows or holds; 0 when none',
    );
    this.setRole('undecided');
    for (const result of ['ok', 'lost', 'failed']) this.leaseRefreshes.inc({ result }, 0);
    for (const result of ['ok', 'failed', 'timeout']) this.hookRuns.inc({ result }, 0);
  }

  setRole(current: RoleState): void {
    for (const role of ROLE_STATES) this.role.set({ role }, role === current ? 1 : 0);
  }
}
