import type { ServerResponse } from 'node:http';
import type { Transport } from '../clients/transport';
import type { Outgoing } from '../feed/outgoing';

/** After the stream ends, how long a client that is not reading gets before its socket is destroyed. */
const CLOSE_GRACE_MS = 5000;

/** A session's Server-Sent Events response: `id` is the stream position, so `Last-Event-ID` resumes. */
export class SseTransport implements Transport {
  readonly kind = 'sse' as const;
  private inMessage = false;

  constructor(private readonly response: ServerResponse) {}

  bufferedBytes(): number {
    return this.response.writableLength;
  }

  sendEvent(event: Outgoing): void {
    // Renewals have no stream position: no id line, so the client's Last-Event-ID stays put.
    const id = event.seq === null ? '' : `id: ${event.seq}\n`;
    this.write(`${id}event: ${event.type}\ndata: ${event.json}\n\n`);
  }

  sendControl(type: string, json: string): void {
    this.write(`event: ${type}\ndata: ${json}\n\n`);
  }

  /** JSON has no line breaks, so a message written in parts is still one `data:` line. */
  beginMessage(type: string): void {
    this.inMessage = true;
    this.write(`event: ${type}\ndata: `);
  }

  writePart(text: string): void {
    this.write(text);
  }

  endMessage(): void {
    this.inMessage = false;
    this.write('\n\n');
  }

  /**
   * Ends the stream cleanly, after a comment naming the WebSocket close code and reason;
   * in the middle of a message nothing more is written, so the client drops the unfinished
   * message (an event without its blank line is never dispatched). What the client has not
   * read stays queued behind the end: a client that never reads is destroyed after a grace period.
   */
  close(code: number, reason: string): void {
    if (this.response.destroyed) return;
    if (!this.inMessage) this.write(`: close ${code} ${reason}\n\n`);
    this.response.end();
    setTimeout(() => {
      if (!this.response.writableFinished) this.response.destroy();
    }, CLOSE_GRACE_MS).unref();
  }

  keepalive(): void {
    this.write(': keepalive\n\n');
  }

  private write(text: string): void {
    if (!this.response.writableEnded) this.response.write(text);
  }
}
