import type { NatsConnection } from 'nats';

/** Publishes a document as plain JSON, as any NATS client (and every Beacon app) does. */
export function publishJson(connection: NatsConnection, subject: string, document: unknown): void {
  connection.publish(subject, new TextEncoder().encode(JSON.stringify(document)));
}

/** A request as any NATS client sends it: plain JSON both ways. */
export async function requestJson<T = Record<string, unknown>>(
  connection: NatsConnection,
  subject: string,
  payload: unknown,
  timeoutMs = 5000,
): Promise<T> {
  const reply = await connection.request(subject, new TextEncoder().encode(JSON.stringify(payload)), { timeout: timeoutMs });
  return JSON.parse(new TextDecoder().decode(reply.data)) as T;
}
