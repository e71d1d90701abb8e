import { Subjects, type ProbeResult, type ProbeResultEvent, type Service } from '@beacon/contracts';
import { EventRecorder, requestJson, startApp, startRegistry, type AppProcess, type NatsServerHandle } from '@beacon/testing';
import { connect, type NatsConnection } from 'nats';

/**
 * A real stack for the prober: nats-server, registry-api on a temporary SQLite file, and
 * health-prober processes, with a recorder of every `beacon.events.probe.result`.
 * Everything started is stopped by `dispose`, also when start-up fails half-way.
 */
export interface Stack {
  nats: NatsServerHandle;
  registry: AppProcess;
  /** `http://127.0.0.1:<port>/api/v1` */
  base: string;
  results: EventRecorder<ProbeResultEvent>;
  client: NatsConnection;
  probers: AppProcess[];
  startProber(env?: Record<string, string>): Promise<AppProcess>;
  /** Registers over REST and insists on 201 (libs/testing's `register`). */
  register(body: Record<string, unknown>): Promise<Service>;
  /** A request as any NATS client sends it: plain JSON both ways. */
  request<T = Record<string, unknown>>(subject: string, payload: unknown, timeoutMs?: number): Promise<T>;
  /** Results recorded so far for one service. */
  resultsFor(serviceId: string): ProbeResult[];
  dispose(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const cleanups: (() => unknown)[] = [];
  const dispose = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Keep stopping the rest.
      }
    }
  };
  try {
    const fixture = await startRegistry();
    cleanups.push(() => fixture.dispose('SIGKILL'));
    const { nats, api: registry, base } = fixture;
    const results = await EventRecorder.start<ProbeResultEvent>(nats.url, Subjects.probeResult);
    cleanups.push(() => results.close());
    const client = await connect({ servers: nats.url });
    cleanups.push(() => client.close());
    const probers: AppProcess[] = [];
    const stack: Stack = {
      nats,
      registry,
      base,
      results,
      client,
      probers,
      async startProber(env = {}) {
        const prober = await startApp('health-prober', {
          env: { NATS_URL: nats.url, BEACON_RESYNC_INTERVAL: '2', ...env },
          portVariable: 'HTTP_PORT',
        });
        probers.push(prober);
        cleanups.push(() => prober.stop('SIGKILL'));
        return prober;
      },
      register: (body) => fixture.register(body),
      request: (subject, payload, timeoutMs) => requestJson(client, subject, payload, timeoutMs),
      resultsFor(serviceId) {
        return results.messages.map((message) => message.data.result).filter((result) => result.service_id === serviceId);
      },
      dispose,
    };
    return stack;
  } catch (error) {
    await dispose();
    throw error;
  }
}
