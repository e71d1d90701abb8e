import type { Outgoing } from '../feed/outgoing';

/** How a session reaches its client: a WebSocket or an SSE response. The session decides what may be written. */
export interface Transport {
  readonly kind: 'ws' | 'sse';
  /** Bytes written but not yet taken by the client (the library's and Node's buffers; the kernel's are not counted). */
  bufferedBytes(): number;
  sendEvent(event: Outgoing): void;
  /** A control message (JSON text) with its type, e.g. the greeting. */
  sendControl(type: string, json: string): void;
  /**
   * One control message written in parts (a snapshot), so that it never exists whole in
   * memory: `begin`, any number of `part`s (JSON text that, joined, is the message), `end`.
   * Nothing else may be written between `begin` and `end`.
   */
  beginMessage(type: string): void;
  writePart(text: string): void;
  endMessage(): void;
  /** Ends the connection; `code` is a WebSocket close code (SSE just ends). A client that does not read is cut off after a grace period. */
  close(code: number, reason: string): void;
  /** Called periodically: ping (and drop a peer that never answered), or an SSE comment. */
  keepalive(): void;
}
