import { connect, type NatsConnection, type Subscription } from 'nats';
import { waitFor } from './ports';

export interface RecordedMessage<T = unknown> {
  subject: string;
  data: T;
}

/**
 * Subscribes to a subject (wildcards allowed) on its own connection and keeps every
 * message, decoded as JSON, for assertions.
 */
export class EventRecorder<T = Record<string, unknown>> {
  readonly messages: RecordedMessage<T>[] = [];

  private constructor(
    private readonly connection: NatsConnection,
    private readonly subscription: Subscription,
  ) {}

  static async start<T = Record<string, unknown>>(url: string, subject: string): Promise<EventRecorder<T>> {
    const connection = await connect({ servers: url });
    // Assigned once the subscription is flushed; the callback reads it before then.
    // eslint-disable-next-line prefer-const
    let recorder: EventRecorder<T> | undefined;
    const pending: RecordedMessage<T>[] = [];
    const subscription = connection.subscribe(subject, {
      callback: (_error, message) => {
        const entry = { subject: message.subject, data: JSON.parse(new TextDecoder().decode(message.data)) as T };
        (recorder ? recorder.messages : pending).push(entry);
      },
    });
    await connection.flush();
    recorder = new EventRecorder<T>(connection, subscription);
    recorder.messages.push(...pending);
    return recorder;
  }

  bySubject(subject: string): T[] {
    return this.messages.filter((message) => message.subject === subject).map((message) => message.data);
  }

  waitForCount(subject: string, count: number, timeoutMs = 5000): Promise<T[]> {
    return waitFor(
      `${count} message(s) on ${subject}`,
      () => {
        const found = this.bySubject(subject);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
    );
  }

  clear(): void {
    this.messages.length = 0;
  }

  async close(): Promise<void> {
    this.subscription.unsubscribe();
    await this.connection.close();
  }
}
