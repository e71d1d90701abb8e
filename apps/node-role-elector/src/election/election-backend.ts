import type { DiscoveredServer } from '@beacon/contracts';
import type { RoleDecision, ServerRef } from './decision';

/** ROLE: `auto` elects; `server` and `agent` hold whatever happens. */
export type RoleMode = 'auto' | 'server' | 'agent';

/** What a backend reports its decisions to (the elector service). */
export interface DecisionSink {
  decide(decision: RoleDecision, reason: string): void;
}

/**
 * One way of deciding the role: the NATS lease, mDNS, or a pinned server. A backend owns
 * its timers; each of them, and every handler that answers for the node, calls `guard()`
 * before anything else.
 */
export interface ElectionBackend {
  readonly kind: 'nats' | 'mdns' | 'forced';
  /** Begins electing; the first decision may come before or after this resolves. */
  start(sink: DecisionSink): Promise<void>;
  /**
   * Steps the node down at once if its lease deadline has passed (monotonic clock).
   * Synchronous, cheap, and safe to call from anywhere.
   */
  guard(): void;
  /** Servers this node knows of, other than itself (seed 001's `discovered_servers`). */
  discovered(): DiscoveredServer[];
  /**
   * Gives the role up for good: the node steps down locally (a decision), `settle` is
   * awaited (the hook stopping the server stack), and only if it returns true is the
   * role released to the others (lease deleted, mDNS goodbye). Then everything stops.
   */
  stop(settle: () => Promise<boolean>): Promise<void>;
}

/** The server this node is while it holds the role. */
export interface SelfRef extends ServerRef {
  /** This process's random id: tells our own lease from a namesake's. */
  instance: string;
}
