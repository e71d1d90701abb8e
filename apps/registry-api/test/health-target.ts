import { createServer, type Server } from 'node:http';

/** What one path of the target answers: a status code and a JSON body. */
export interface TargetReply {
  status: number;
  body: unknown;
}

/**
 * A local HTTP server standing in for seed 004 services' health endpoints: each path
 * answers what the test last set for it (404 until then), so one instance can go from
 * healthy to loaded to failing while health-prober keeps checking it.
 */
export interface HealthTarget {
  /** `127.0.0.1` */
  host: string;
  port: number;
  set(path: string, reply: TargetReply): void;
  /** Requests seen per path. */
  hits(path: string): number;
  close(): Promise<void>;
}

export const healthy = (load: number): TargetReply => ({ status: 200, body: { status: 'healthy', load_percentage: load } });
export const failing: TargetReply = { status: 500, body: { status: 'unhealthy' } };

export async function startHealthTarget(): Promise<HealthTarget> {
  const replies = new Map<string, TargetReply>();
  const hits = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://target').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const reply = replies.get(path) ?? { status: 404, body: { error: 'no such target' } };
    const text = JSON.stringify(reply.body);
    response.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    set: (path, reply) => void replies.set(path, reply),
    hits: (path) => hits.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
