import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

/** One POST a receiver got. */
export interface ReceivedWebhook {
  path: string;
  /** Path and query, as requested. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>` (or `localhost` with `{ host: 'localhost' }`); add any path. */
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedWebhook[];
  /** What it answers from now on: a status code, or a function of the request. */
  answer(status: number | ((request: ReceivedWebhook) => number)): void;
  /** Answers each request this long after it arrived (0: at once), so POSTs stay in flight. */
  delay(ms: number): void;
  /** Closes the port (connections refused) until `open()`. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  open(): Promise<void>;
  /** Waits until `count` requests (matching `filter`) have arrived; throws after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number, filter?: (request: ReceivedWebhook) => boolean): Promise<ReceivedWebhook[]>;
  dispose(): Promise<void>;
}

/**
 * A real HTTP receiver on loopback that records every request and answers 200 (or what it
 * is told), and can be closed and opened again on the same port: a webhook target that is
 * down for a while.
 */
export async function startWebhookReceiver(options: { host?: 'localhost' | '127.0.0.1' } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let respond: (request: ReceivedWebhook) => number = () => 200;
  let delayMs = 0;
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;

  const listen = async (): Promise<void> => {
    const next = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const entry: ReceivedWebhook = {
          path: (request.url ?? '/').split('?')[0] ?? '/',
          url: request.url ?? '/',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        received.push(entry);
        const status = respond(entry);
        const reply = (): void => void response.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
        if (delayMs > 0) setTimeout(reply, delayMs).unref();
        else reply();
      });
    });
    next.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    port = (next.address() as AddressInfo).port;
    server = next;
  };
  await listen();

  const close = async (): Promise<void> => {
    const current = server;
    server = null;
    if (!current) return;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    received,
    answer(status) {
      respond = typeof status === 'number' ? () => status : status;
    },
    delay(ms) {
      delayMs = ms;
    },
    close,
    open: listen,
    async waitFor(count, timeoutMs = 20_000, filter = () => true) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter(filter);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) throw new Error(`the receiver got ${matching.length} of ${count} webhooks within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    dispose: close,
  };
}

/**
 * Verifies Beacon's `X-Beacon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
 * the way the README tells receivers to: the MAC over the raw body, compared in constant
 * time, and `t` within `toleranceSeconds` of now (replays refused).
 */
export function verifyBeaconSignature(
  secret: string,
  header: string | string[] | undefined,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  if (typeof header !== 'string') return false;
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

/** A receiver that accepts connections and never answers (a black hole, or a slowloris target). */
export interface BlackHoleReceiver {
  readonly url: string;
  /** Connections open right now. */
  readonly open: number;
  /** Most connections ever open at once. */
  readonly peak: number;
  /** Connections accepted in all. */
  readonly accepted: number;
  /** Connections the client gave up on (closed from its side). */
  readonly closedByClient: number;
  dispose(): Promise<void>;
}

/** A real TCP listener on loopback that reads requests and answers nothing, ever. */
export async function startBlackHole(): Promise<BlackHoleReceiver> {
  const sockets = new Set<Socket>();
  let peak = 0;
  let accepted = 0;
  let closedByClient = 0;
  let disposing = false;
  const server = createNetServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (!disposing) closedByClient += 1;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get open() {
      return sockets.size;
    },
    get peak() {
      return peak;
    },
    get accepted() {
      return accepted;
    },
    get closedByClient() {
      return closedByClient;
    },
    async dispose() {
      disposing = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
