import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';

/** Local targets for health checks, one behaviour per path, on 127.0.0.1. */
export interface TargetServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** TCP connections accepted so far (keep-alive reuses them). */
  connections(): number;
  /** Bytes of the 10 MB body the server managed to write before the client hung up. */
  bigBytesSent(): number;
  /** Whether the last 10 MB body was written to the end (it should not be: the client hangs up). */
  bigFinished(): boolean;
  /** User-agent headers seen, newest last. */
  userAgents(): string[];
  close(): Promise<void>;
}

export const BIG_BODY_BYTES = 10 * 1024 * 1024;

const json = (response: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
};

export async function startTargetServer(): Promise<TargetServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const userAgents: string[] = [];
  let connections = 0;
  let bigBytesSent = 0;
  let bigFinished = false;

  const writeBig = (response: ServerResponse): void => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': BIG_BODY_BYTES });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (bigBytesSent < BIG_BODY_BYTES && !response.destroyed) {
        bigBytesSent += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      if (!response.destroyed) {
        bigFinished = true;
        response.end();
      }
    };
    bigBytesSent = 0;
    bigFinished = false;
    pump();
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    userAgents.push(request.headers['user-agent'] ?? '');
    const path = new URL(request.url ?? '/', 'http://target').pathname;
    const redirect = /^\/redirect\/(\d+)$/.exec(path);
    if (redirect) {
      const left = Number(redirect[1]);
      if (left === 0) return json(response, 200, { status: 'healthy' });
      response.writeHead(302, { location: `/redirect/${left - 1}`, 'content-length': 0 });
      response.end();
      return;
    }
    switch (path) {
      case '/healthy':
        return json(response, 200, { status: 'healthy', load_percentage: 0.3 });
      case '/degraded':
        return json(response, 200, { status: 'degraded' });
      case '/loaded':
        return json(response, 200, { status: 'healthy', load_percentage: 0.93 });
      case '/error':
        return json(response, 500, { status: 'unhealthy' });
      case '/slow': {
        const timer = setTimeout(() => json(response, 200, { status: 'healthy' }), 5000);
        timers.add(timer);
        return;
      }
      case '/big':
        return writeBig(response);
      case '/to-metadata':
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data', 'content-length': 0 });
        response.end();
        return;
      default:
        return json(response, 404, { error: 'no such target' });
    }
  };

  const server = createHttpServer(handle);
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    bigBytesSent: () => bigBytesSent,
    bigFinished: () => bigFinished,
    userAgents: () => userAgents,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP port that accepts connections (and closes them), for TCP checks. */
export async function startTcpListener(): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  let accepted = 0;
  const server: Server = createTcpServer((socket) => {
    accepted += 1;
    socket.on('error', () => undefined);
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A port whose SYNs go unanswered, so a connect hangs until the check times out: a
 * listener that never accepts, its one-slot backlog already filled. Node accepts every
 * connection itself, so this is a small python3 process; null without python3.
 */
export async function startBlackhole(): Promise<{ port: number; close(): void } | null> {
  const script = [
    'import socket, sys, time',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'fill = socket.socket(); fill.connect(s.getsockname())',
    'print(s.getsockname()[1], flush=True)',
    'time.sleep(120)',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()) || null));
    child.once('exit', () => resolve(null));
  });
  if (port === null) return null;
  return { port, close: () => void child.kill('SIGKILL') };
}
