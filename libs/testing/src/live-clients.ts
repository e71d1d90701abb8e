import type { Service } from '@beacon/contracts';
import WebSocket, { type RawData } from 'ws';
import { waitFor } from './ports';

/** A WebSocket message's text, whichever of ws's three shapes it arrived in (fragments come as a list). */
export function wsText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/**
 * Clients of realtime-gateway's live events, as a test uses them: every message kept,
 * in order. LiveMessage shapes are in docs/realtime.md.
 */
/** One message of the gateway's protocol (WebSocket frame or SSE data). */
export interface LiveMessage {
  type: string;
  event?: string;
  data?: Record<string, unknown> & Partial<Service>;
  seq?: number | null;
  revision?: number | null;
  [key: string]: unknown;
}

/** A WebSocket client that keeps every message it receives. */
export class WsClient {
  readonly messages: LiveMessage[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.messages.push(JSON.parse(wsText(data)) as LiveMessage));
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  /** Connects and waits for the greeting; rejects with the HTTP status when the upgrade is refused. */
  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const socket = new WebSocket(url, options);
    const client = new WsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    });
    await waitFor('greeting', () => client.messages.some((m) => m.type === 'connection_established'));
    return client;
  }

  events(type?: string): LiveMessage[] {
    return this.messages.filter((m) => m.event !== undefined && (type === undefined || m.type === type));
  }

  forService(serviceId: string): LiveMessage[] {
    return this.events().filter((m) => m.data?.service_id === serviceId);
  }

  waitForEvents(count: number, predicate: (m: LiveMessage) => boolean = () => true, timeoutMs = 10_000): Promise<LiveMessage[]> {
    return waitFor(
      `${count} events`,
      () => {
        const found = this.events().filter(predicate);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
    );
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  close(): void {
    this.socket.close();
  }
}

/** A Server-Sent Events reader over fetch, keeping every event it receives. */
export class SseClient {
  readonly events: { id: string | null; event: string; data: LiveMessage }[] = [];
  private readonly controller = new AbortController();
  status = 0;
  contentType: string | null = null;

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, { headers, signal: client.controller.signal });
    client.status = response.status;
    client.contentType = response.headers.get('content-type');
    if (response.ok && response.body) void client.read(response.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            frame
              .split('\n')
              .filter((line) => line && !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
          );
          if (fields.data)
            this.events.push({ id: fields.id ?? null, event: fields.event ?? 'message', data: JSON.parse(fields.data) as LiveMessage });
        }
      }
    } catch {
      // aborted
    }
  }

  close(): void {
    this.controller.abort();
  }
}
