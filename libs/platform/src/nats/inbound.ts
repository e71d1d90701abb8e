import type { PayloadCheck } from '@beacon/contracts';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { MetricsService } from '../metrics/metrics.service';

/** At most one warning per subscription this often about dropped messages (they are all counted). */
const DROP_WARNING_INTERVAL_MS = 10_000;

const decoder = new TextDecoder();

/**
 * The one gate for what is read off NATS (subscriptions and the event stream alike):
 * decodes the JSON and holds it to its subject's check. What does not pass is counted in
 * `beacon_nats_messages_dropped_total`, warned about (once per subscription per interval,
 * with how many since: a flood of bad messages must not flood the log) and dropped.
 */
export class Inbound {
  private readonly dropped: Counter<'subject' | 'reason'>;
  private readonly warnings = new Map<string, { at: number; since: number }>();

  constructor(
    metrics: MetricsService,
    private readonly logger: Logger,
  ) {
    this.dropped = metrics.counter(
      'beacon_nats_messages_dropped_total',
      'Messages read from NATS and skipped because they are not JSON, not what their subject carries (invalid) or their handler failed on them (handler_failed), by subscribed subject',
      ['subject', 'reason'],
    );
  }

  /**
   * A handler threw on a message that passed its check: counted and logged, and the
   * subscription goes on (a throw inside nats.js's callback would stop its reader).
   */
  failed(label: string, subject: string, error: unknown): void {
    this.dropped.inc({ subject: label, reason: 'handler_failed' });
    this.report(`${label}#failed`, (since) =>
      this.logger.error({ err: error, subject, failed_since_last_report: since }, 'a message handler failed; message skipped'),
    );
  }

  /**
   * A request whose reply subject is not an inbox (see `replySubjectProblem`): counted,
   * warned about, and neither handled nor answered.
   */
  refusedReply(label: string, subject: string, problem: string): void {
    this.dropped.inc({ subject: label, reason: 'bad_reply_subject' });
    this.warn(label, subject, problem);
  }

  /**
   * The checked document, or undefined when it was dropped. `label` names where it was
   * read (the subscribed subject or the stream), `subject` is the message's own.
   */
  accept(label: string, data: Uint8Array, subject: string, check: PayloadCheck, onDropped?: (problem: string) => void): unknown {
    let document: unknown;
    let problem: string | null;
    try {
      document = JSON.parse(decoder.decode(data));
      problem = check(document, subject);
    } catch {
      problem = 'not JSON';
    }
    if (problem === null) return document;
    this.dropped.inc({ subject: label, reason: problem === 'not JSON' ? 'not_json' : 'invalid' });
    this.warn(label, subject, problem);
    onDropped?.(problem);
    return undefined;
  }

  private warn(label: string, subject: string, problem: string): void {
    this.report(label, (since) => this.logger.warn({ subject, problem, dropped_since_last_warning: since }, 'dropped a malformed message'));
  }

  /** Logs through `log` at most once per `key` per interval, with how many were not logged since. */
  private report(key: string, log: (since: number) => void): void {
    const now = Date.now();
    const last = this.warnings.get(key);
    if (last && now - last.at < DROP_WARNING_INTERVAL_MS) {
      last.since += 1;
      return;
    }
    this.warnings.set(key, { at: now, since: 0 });
    log(last?.since ?? 0);
  }
}
