import { WIRE_VERSION, membersSubject, type MemberAnnouncement } from '@beacon/contracts';
import type { Subscription } from 'nats';
import type { Logger } from 'pino';
import type { NatsService } from '../nats/nats.service';
import { rendezvousOwner } from './rendezvous';

export interface MembershipOptions {
  /** The app whose replicas share work, e.g. `health-prober`. */
  app: string;
  memberId: string;
  /** How often each replica announces itself. */
  intervalMs?: number;
  /** Announcements a member may miss before the others drop it. */
  missedBeforeDrop?: number;
  /** How long `start` listens for peers before ownership counts (they answer a newcomer at once). */
  settleMs?: number;
}

const DEFAULTS = { intervalMs: 1000, missedBeforeDrop: 3, settleMs: 300 };

/**
 * Who the live replicas of an app are, and which keys this one owns. Replicas announce
 * themselves every `intervalMs` on `beacon.members.<app>`; one not heard from for
 * `missedBeforeDrop` intervals is dropped (its keys move to the others); one that stops
 * cleanly says so and is dropped at once. A newcomer's first announcement makes every
 * peer announce right away, so it learns the membership within milliseconds.
 */
export class Membership {
  private readonly options: Required<MembershipOptions>;
  private readonly peers = new Map<string, number>();
  private readonly listeners = new Set<(members: readonly string[]) => void>();
  private sorted: string[];
  private subscription: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private settled!: () => void;
  /**
   * Resolves once `start` has listened for peers: work that depends on ownership waits
   * for it, so a starting replica never briefly believes it owns every key.
   */
  readonly ready = new Promise<void>((resolve) => {
    this.settled = resolve;
  });

  constructor(
    private readonly nats: NatsService,
    private readonly logger: Logger,
    options: MembershipOptions,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.sorted = [this.options.memberId];
  }

  get memberId(): string {
    return this.options.memberId;
  }

  /** Live members, sorted, this one included. */
  get members(): readonly string[] {
    return this.sorted;
  }

  owns(key: string): boolean {
    return rendezvousOwner(key, this.sorted) === this.options.memberId;
  }

  /** Called with the new member list whenever it changes. */
  onChange(listener: (members: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.subscription = this.nats.subscribe(membersSubject(this.options.app), (announcement) => this.heard(announcement));
    this.announce(false);
    this.timer = setInterval(() => {
      this.announce(false);
      this.dropSilent();
    }, this.options.intervalMs);
    this.timer.unref();
    // Peers answer a newcomer at once; a reconnect may have hidden us from them.
    this.nats.onReconnect(() => this.announce(false));
    await new Promise((resolve) => setTimeout(resolve, this.options.settleMs));
    this.settled();
  }

  /** Says goodbye so the others take over this replica's keys now, not after a timeout. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.announce(true);
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private announce(leaving: boolean): void {
    const announcement: MemberAnnouncement = {
      v: WIRE_VERSION,
      app: this.options.app,
      member_id: this.options.memberId,
      interval_ms: this.options.intervalMs,
      leaving,
      timestamp: new Date().toISOString(),
    };
    this.nats.publish(membersSubject(this.options.app), announcement);
  }

  private heard(announcement: MemberAnnouncement): void {
    const member = announcement.member_id;
    if (member === this.options.memberId) return;
    if (announcement.leaving) {
      if (this.peers.delete(member)) this.changed(`${member} left`);
      return;
    }
    const known = this.peers.has(member);
    this.peers.set(member, Date.now() + announcement.interval_ms * this.options.missedBeforeDrop);
    if (!known) {
      this.announce(false);
      this.changed(`${member} joined`);
    }
  }

  private dropSilent(): void {
    const now = Date.now();
    const dropped = [...this.peers].filter(([, deadline]) => deadline < now).map(([member]) => member);
    for (const member of dropped) this.peers.delete(member);
    if (dropped.length > 0) this.changed(`${dropped.join(', ')} went silent`);
  }

  private changed(reason: string): void {
    this.sorted = [this.options.memberId, ...this.peers.keys()].sort();
    this.logger.info({ members: this.sorted, reason }, 'membership changed');
    for (const listener of this.listeners) listener(this.sorted);
  }
}
