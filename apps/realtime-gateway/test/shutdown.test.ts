import { startApp, startRegistry, type AppProcess, type RegistryFixture } from '@beacon/testing';
import { get, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A gateway that stops tells its clients so, before the process exits: WebSocket clients
 * get a 1001 close frame and SSE streams end after a final comment, so both reconnect at
 * once instead of waiting out a dead socket.
 */
let registry: RegistryFixture;
let gateway: AppProcess;

interface WsOutcome {
  code: number;
  reason: string;
  error: string | null;
}

interface SseOutcome {
  ended: boolean;
  error: string | null;
  tail: string;
}

/** An open WebSocket; `ended` tells how it ends: the close code and reason, or the error that cut it. */
async function openWs(url: string): Promise<{ ended: Promise<WsOutcome> }> {
  const socket = new WebSocket(url);
  let error: string | null = null;
  socket.on('error', (cause: Error) => (error = cause.message));
  const ended = new Promise<WsOutcome>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString(), error })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('message', () => resolve());
    socket.once('close', () => reject(new Error(`${url} closed before its greeting`)));
  });
  return { ended };
}

/** An open SSE stream; `ended` tells how it ends: 'end' (clean) or an error ('aborted', ECONNRESET). */
async function openSse(url: string): Promise<{ ended: Promise<SseOutcome> }> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => get(url, resolve).once('error', reject));
  expect(response.statusCode).toBe(200);
  let text = '';
  response.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const ended = new Promise<SseOutcome>((resolve) => {
    const done = (clean: boolean, error: string | null): void => resolve({ ended: clean, error, tail: text.slice(-300) });
    response.once('end', () => done(true, null));
    response.once('aborted', () => done(false, 'aborted'));
    response.once('error', (error: Error) => done(false, error.message));
  });
  await new Promise<void>((resolve) => response.once('data', () => resolve()));
  return { ended };
}

beforeAll(async () => {
  registry = await startRegistry();
  gateway = await startApp('realtime-gateway', {
    env: { NATS_URL: registry.nats.url },
    portVariable: 'HTTP_PORT',
    readyPath: '/ready',
  });
});

afterAll(async () => {
  if (gateway?.child.exitCode === null) await gateway.stop('SIGKILL');
  await registry?.dispose();
});

describe('realtime-gateway shutdown', () => {
  it('closes WebSockets with 1001 and ends SSE streams after a final comment before it exits on SIGTERM', async () => {
    const base = `127.0.0.1:${gateway.port}/api/v1`;
    const ws = await Promise.all([openWs(`ws://${base}/ws`), openWs(`ws://${base}/ws?snapshot=true`)]);
    const sse = await Promise.all([openSse(`http://${base}/events`), openSse(`http://${base}/events?snapshot=true`)]);

    const started = Date.now();
    const exitCode = await gateway.stop('SIGTERM');
    const elapsed = Date.now() - started;

    for (const client of ws) expect(await client.ended).toEqual({ code: 1001, reason: 'server shutting down', error: null });
    for (const client of sse) {
      const outcome = await client.ended;
      expect(outcome).toMatchObject({ ended: true, error: null });
      expect(outcome.tail).toMatch(/\n\n: close 1001 server shutting down\n\n$/);
    }
    expect(exitCode).toBe(0);
    expect(elapsed).toBeLessThan(5_000);
  });
});
