import type { DiscoveredServer } from '@beacon/contracts';
import type { ServerRef } from './decision';
import type { DecisionSink, ElectionBackend } from './election-backend';

/**
 * `ROLE=agent` with `SERVER_HOST`: an agent of a server named by the operator, with no
 * election and no discovery (seed 001's forced proxy mode). The server's node id is not
 * known; `host:port` stands in for it.
 */
export class PinnedElection implements ElectionBackend {
  readonly kind = 'forced' as const;
  private readonly server: ServerRef;

  constructor(host: string, port: number) {
    this.server = { node_id: `${host}:${port}`, host, port };
  }

  async start(sink: DecisionSink): Promise<void> {
    sink.decide({ role: 'agent', server: this.server, fencingToken: null }, 'ROLE=agent with SERVER_HOST');
  }

  guard(): void {}

  discovered(): DiscoveredServer[] {
    return [];
  }

  async stop(): Promise<void> {}
}
