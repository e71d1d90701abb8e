import { MAX_BODY_BYTES } from '@beacon/contracts';
import { Inject } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { control } from '../feed/outgoing';
import { describeFilters, parseConnectParams, parseSubscribe } from '../clients/filters';
import { Hub } from '../clients/hub';
import type { Session } from '../clients/session';
import { requestUrl } from './access';
import { WsTransport } from './ws.transport';

/** `/api/v1/ws`: the original Beacon's WebSocket (docs/realtime.md). Access was checked at the upgrade. */
@WebSocketGateway({ path: '/api/v1/ws', maxPayload: MAX_BODY_BYTES })
export class EventsGateway implements OnGatewayConnection {
  constructor(@Inject(Hub) private readonly hub: Hub) {}

  handleConnection(client: WebSocket, request: IncomingMessage): void {
    const parsed = parseConnectParams(requestUrl(request).searchParams);
    if (!parsed.ok) {
      client.close(1008, parsed.errors.join('; ').slice(0, 120));
      return;
    }
    const session = this.hub.open(new WsTransport(client), parsed.value);
    client.on('close', () => this.hub.close(session));
    client.on('message', (data: RawData) => this.onMessage(session, data));
  }

  /**
   * `subscribe` replaces the filters; `ping` answers `pong`; anything else is an error
   * message. Replies count against the client's buffer like events: a client that sends
   * without reading is cut off.
   */
  private onMessage(session: Session, data: RawData): void {
    if (!session.open) return;
    let message: unknown;
    try {
      message = JSON.parse(messageText(data));
    } catch {
      session.reply('error', control('error', { message: 'messages must be JSON objects' }));
      return;
    }
    const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    if (type === 'ping') {
      session.reply('pong', control('pong', {}));
    } else if (type === 'subscribe') {
      const parsed = parseSubscribe(message as Record<string, unknown>);
      if (!parsed.ok) {
        session.reply('error', control('error', { message: `Invalid subscribe: ${parsed.errors.join('; ')}` }));
        return;
      }
      session.filters = parsed.value;
      session.reply('subscribed', control('subscribed', { filters: describeFilters(parsed.value) }));
    } else {
      session.reply('error', control('error', { message: 'unknown message type; send "subscribe" or "ping"' }));
    }
  }
}

/** A client message's text, whichever of ws's shapes it arrived in (a fragmented one comes as a list). */
function messageText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
