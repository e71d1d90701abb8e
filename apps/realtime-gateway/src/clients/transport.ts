import type { Outgoing } from '../feed/outgoing';

/** How a session reaches its client: a WebSocket or an SSE response. */
export interface Transport {
  readonly kind: 'ws' | 'sse';
  /** Bytes written but not yet taken by the client (kernel and library buffers). */
  bufferedBytes(): number;
  sendEvent(event: Outgoing): void;
  /** A control message (JSON text) with its type, e.g. the greeting. */
  sendControl(type: string, json: string): void;
  /** Ends the connection; `code` is a WebSocket close code (SSE just ends). */
  close(code: number, reason: string): void;
  /** Called periodically: ping (and drop a peer that never answered), or an SSE comment. */
  keepalive(): void;
}
