import { Subjects, type PayloadOf } from '@beacon/contracts';
import type { Logger, NatsService } from '@beacon/platform';

type RoleChangedEvent = PayloadOf<typeof Subjects.nodeRoleChanged>;

const MAX_QUEUED = 100;
const PUBLISH_TIMEOUT_MS = 2000;

/**
 * Publishes `node.role_changed` through JetStream and retries until the stream has
 * acknowledged it, in order. A core publish made while NATS is away (a server cut off
 * steps down exactly then) is lost: the client's buffer reaches a restarted server
 * before its JetStream is back, so the stream never stores it and the step-down that
 * ended a tenure would be missing from the history. Retries carry the same message id,
 * so the stream's duplicate window drops a copy whose first ack was lost. Core
 * subscribers receive the message as well.
 */
export class RoleEventPublisher {
  private readonly queue: { event: RoleChangedEvent; id: string }[] = [];
  private sequence = 0;
  private sending: Promise<void> | null = null;
  private stopped = false;
  private failing = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly nats: NatsService,
    private readonly messageIdPrefix: string,
    private readonly logger: Logger,
  ) {
    // Back online: retry at once instead of waiting out the backoff.
    nats.onReconnect(() => this.wake?.());
  }

  publish(event: RoleChangedEvent): void {
    this.sequence += 1;
    this.queue.push({ event, id: `${this.messageIdPrefix}-${this.sequence}` });
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.logger.warn('role events piled up while JetStream was away; dropped the oldest');
    }
    if (!this.sending) {
      this.sending = this.drain().finally(() => {
        this.sending = null;
      });
    }
  }

  /** Waits (at most `timeoutMs`) for queued events to be stored, then stops retrying. */
  async close(timeoutMs: number): Promise<void> {
    if (this.sending) await Promise.race([this.sending, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    this.stopped = true;
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    while (this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0] as { event: RoleChangedEvent; id: string };
      try {
        await this.nats.publishStored(Subjects.nodeRoleChanged, head.event, { messageId: head.id, timeoutMs: PUBLISH_TIMEOUT_MS });
        this.queue.shift();
        if (this.failing) this.logger.info('role events are stored again');
        this.failing = false;
        attempt = 0;
      } catch (error) {
        if (this.nats.closed) return;
        if (!this.failing) this.logger.warn({ err: error }, 'could not store a role event; retrying');
        this.failing = true;
        attempt += 1;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }
}
