import { Subjects, WIRE_VERSION, type ElectorStatus, type NodeRoleChangedEvent } from '@beacon/contracts';
import { HealthService, NatsService, ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ELECTOR_ENV, type ElectorEnv } from './config';
import { sameDecision, type RoleDecision } from './election/decision';
import type { DecisionSink, ElectionBackend, SelfRef } from './election/election-backend';
import { ELECTION_BACKEND, SELF } from './election/election.providers';
import { ElectorMetrics } from './elector.metrics';
import { roleVariables } from './hooks/role-env';
import { RoleHookRunner } from './hooks/role-hook.runner';
import { RoleEventPublisher } from './role-events.publisher';

/**
 * The node's role as the backend decides it, and what follows each change: the
 * `node.role_changed` event, the env file and the hook. Everything that answers for
 * the node (HTTP, NATS status, the hook runner) asks through here, and here the lease
 * deadline is checked first.
 */
@Injectable()
export class ElectorService implements DecisionSink, OnApplicationBootstrap, BeforeApplicationShutdown {
  private current: RoleDecision | null = null;
  private since: Date | null = null;
  private readonly hooks: RoleHookRunner;
  private readonly events: RoleEventPublisher | null;
  private readonly logger: Logger;

  constructor(
    @Inject(ELECTION_BACKEND) private readonly backend: ElectionBackend,
    @Inject(SELF) private readonly self: SelfRef,
    @Inject(ELECTOR_ENV) private readonly config: ElectorEnv,
    @Inject(ElectorMetrics) private readonly metrics: ElectorMetrics,
    @Inject(HealthService) health: HealthService,
    @Inject(ROOT_LOGGER) logger: Logger,
    @Optional() @Inject(NatsService) private readonly nats?: NatsService,
  ) {
    this.logger = logger.child({ component: 'elector' });
    this.events = nats ? new RoleEventPublisher(nats, `${config.NODE_ID}-${self.instance}`, this.logger) : null;
    this.hooks = new RoleHookRunner(
      {
        command: config.ROLE_HOOK,
        envFile: config.ROLE_ENV_FILE,
        timeoutMs: config.ROLE_HOOK_TIMEOUT * 1000,
        maxBackoffMs: config.ROLE_HOOK_MAX_BACKOFF * 1000,
      },
      logger.child({ component: 'role-hook' }),
      metrics.hookRuns,
      (decision) => this.isCurrent(decision),
    );
    health.addReadinessCheck('role_decided', () => this.role() !== 'undecided');
  }

  async onApplicationBootstrap(): Promise<void> {
    this.nats?.serve(Subjects.electorStatus, null, async () => this.status());
    this.logger.info(
      {
        node_id: this.config.NODE_ID,
        backend: this.backend.kind,
        role: this.config.ROLE,
        advertise: `${this.self.host}:${this.self.port}`,
      },
      'electing',
    );
    await this.backend.start(this);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Leave time to store the last role event, close HTTP and drain NATS after the hook ran.
    const settleMs = Math.max(1000, (this.config.SHUTDOWN_TIMEOUT - 3) * 1000);
    await this.backend.stop(() => this.hooks.idle(settleMs).then((idle) => idle && !this.hooks.pending));
    this.hooks.stop();
    await this.events?.close(1500);
  }

  /** Checks the lease deadline (stepping down if it passed). First thing on every request. */
  guard(): void {
    this.backend.guard();
  }

  decide(decision: RoleDecision, reason: string): void {
    if (sameDecision(this.current, decision)) return;
    const previous = this.current;
    this.current = decision;
    this.since = new Date();
    this.metrics.setRole(decision.role);
    this.metrics.roleChanges.inc({ role: decision.role });
    this.metrics.fencingToken.set(decision.fencingToken ?? 0);
    this.logger.info(
      { from: previous?.role ?? 'undecided', role: decision.role, server: decision.server, fencing_token: decision.fencingToken, reason },
      'role changed',
    );
    this.publish(decision);
    this.hooks.submit({ decision, variables: roleVariables(this.config.NODE_ID, decision) });
  }

  role(): RoleDecision['role'] | 'undecided' {
    this.guard();
    return this.current?.role ?? 'undecided';
  }

  status(): ElectorStatus {
    this.guard();
    const current = this.current;
    return {
      v: WIRE_VERSION,
      node_id: this.config.NODE_ID,
      mode: current?.role ?? 'undecided',
      backend: this.backend.kind,
      server: current?.server ?? null,
      fencing_token: current?.fencingToken ?? null,
      discovered_servers: Object.fromEntries(this.backend.discovered().map((server) => [server.node_id, server])),
      role_since: this.since?.toISOString() ?? null,
    };
  }

  /** For the hook runner: is this still the role, lease deadline checked? */
  private isCurrent(decision: RoleDecision): boolean {
    this.guard();
    return sameDecision(this.current, decision);
  }

  private publish(decision: RoleDecision): void {
    if (!this.events) return;
    const event: NodeRoleChangedEvent = {
      v: WIRE_VERSION,
      type: 'node.role_changed',
      timestamp: (this.since ?? new Date()).toISOString(),
      node: {
        node_id: this.config.NODE_ID,
        role: decision.role,
        server_host: decision.server?.host ?? null,
        server_port: decision.server?.port ?? null,
        fencing_token: decision.fencingToken,
      },
    };
    this.events.publish(event);
  }
}
