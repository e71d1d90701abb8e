import { connect, type NatsConnection } from 'nats';

/** Publishes a document as plain JSON, as any NATS client (and every Beacon app) does. */
export function publishJson(connection: NatsConnection, subject: string, document: unknown): void {
  connection.publish(subject, new TextEncoder().encode(JSON.stringify(document)));
}

/** A request as any NATS client sends it: plain JSON both ways (on a connection of its own when given a server URL). */
export async function requestJson<T = Record<string, unknown>>(
  connection: NatsConnection | string,
  subject: string,
  payload: unknown,
  timeoutMs = 5000,
): Promise<T> {
  if (typeof connection === 'string') {
    const own = await connect({ servers: connection });
    try {
      return await requestJson<T>(own, subject, payload, timeoutMs);
    } finally {
      await own.close();
    }
  }
  const reply = await connection.request(subject, new TextEncoder().encode(JSON.stringify(payload)), { timeout: timeoutMs });
  return JSON.parse(new TextDecoder().decode(reply.data)) as T;
}
