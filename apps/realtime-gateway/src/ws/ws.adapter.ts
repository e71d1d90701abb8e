import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { ConnectionCapacity, clientAddress } from '../clients/capacity';
import { refusalHeaders, type Refusal } from './access';

type VerifyDone = (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

/**
 * Nest's `ws` adapter, refusing a connection at the HTTP upgrade (401 for a missing or
 * wrong token, 400 for bad parameters, 503/429 when the gateway or the client's address
 * has no slot left) rather than after it: a client then gets a status it can act on, not
 * a socket that opens and closes.
 */
export class GatewayWsAdapter extends WsAdapter {
  private readonly capacity: ConnectionCapacity;

  constructor(
    app: INestApplicationContext,
    private readonly check: (request: IncomingMessage) => Refusal | null,
  ) {
    super(app);
    this.capacity = app.get(ConnectionCapacity);
  }

  override create(port: number, options: Record<string, unknown> & { path?: string } = {}): ReturnType<WsAdapter['create']> {
    return super.create(port, {
      ...options,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyDone) => {
        // Capacity last: only a request that would otherwise be accepted takes a slot.
        const refusal = this.check(info.req) ?? this.admit(info.req);
        if (!refusal) return done(true);
        const body = JSON.stringify({ detail: refusal.message });
        done(false, refusal.status, body, { 'Content-Type': 'application/json', ...refusalHeaders(refusal) });
      },
    });
  }

  /**
   * A client's bad frame (a reserved opcode, a message over `maxPayload`) is its own
   * fault, and ws already closes it with the right code: logged once per connection at
   * debug, since an error line per frame let one client flood the log.
   */
  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (socket: WebSocket) => {
      socket.once('error', (error: Error) => this.logger.debug(`client connection error: ${error.message}`, 'GatewayWsAdapter'));
      // Later errors of the same connection are expected fallout; without a listener ws would throw them.
      socket.on('error', () => undefined);
    });
    server.on('error', (error: Error) => this.logger.error(error));
    return server;
  }

  /** A slot for this client, given back when its socket closes, whether or not the upgrade completes. */
  private admit(request: IncomingMessage): Refusal | null {
    const admission = this.capacity.admit(clientAddress(request));
    if (!admission.ok) return admission.refusal;
    if (request.socket.destroyed) admission.release();
    else request.socket.once('close', admission.release);
    return null;
  }
}
