import type { ServerResponse } from 'node:http';
import type { Transport } from '../clients/transport';
import type { Outgoing } from '../feed/outgoing';

/** A session's Server-Sent Events response: `id` is the stream position, so `Last-Event-ID` resumes. */
export class SseTransport implements Transport {
  readonly kind = 'sse' as const;

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

  close(): void {
    this.response.end();
  }

  keepalive(): void {
    this.write(': keepalive\n\n');
  }

  private write(text: string): void {
    if (!this.response.writableEnded) this.response.write(text);
  }
}
