import type { WebSocket } from 'ws';
import type { Outgoing } from '../feed/outgoing';
import type { Transport } from '../clients/transport';

/** After a close frame, how long a client that is not reading gets before its socket is destroyed. */
const CLOSE_GRACE_MS = 5000;

/** A session's WebSocket. */
export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  private alive = true;

  constructor(private readonly socket: WebSocket) {
    socket.on('pong', () => {
      this.alive = true;
    });
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  sendEvent(event: Outgoing): void {
    this.write(event.json);
  }

  sendControl(_type: string, json: string): void {
    this.write(json);
  }

  beginMessage(): void {
    // The first fragment opens the message.
  }

  /** A text fragment: the client's library joins the fragments into one message. */
  writePart(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text, { binary: false, fin: false });
  }

  endMessage(): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send('', { binary: false, fin: true });
  }

  /**
   * The close frame queues behind whatever the client has not read; a client that never
   * reads would hold the socket open, so it is destroyed after a grace period.
   */
  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.CLOSED) return;
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Pings; a peer that did not answer the previous ping is dropped. */
  keepalive(): void {
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  private write(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }
}
