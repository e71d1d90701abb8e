import type { DiscoveredServer } from '@beacon/contracts';
import { MdnsSocket, NO_MDNS_INTERFACE, type MdnsInterface } from '@beacon/mdns';
import { StartupError, type Logger } from '@beacon/platform';
import type { QueryPacket, ResponsePacket } from 'multicast-dns';
import type { RemoteInfo } from 'node:dgram';
import type { ElectorMetrics } from '../elector.metrics';
import type { ServerRef } from './decision';
import type { DecisionSink, ElectionBackend, RoleMode, SelfRef } from './election-backend';
import {
  SERVICE_NAME,
  asksForServers,
  candidateRecord,
  enumerationRecord,
  readCandidates,
  readServers,
  serverRecords,
  type Answer,
  type HeardServer,
  type ServerAnnouncement,
} from './mdns-records';
import { outranks, preferredServer } from './tie-break';

export interface MdnsSettings {
  self: SelfRef;
  mode: RoleMode;
  /** IPv4 of the A record: the one address advertised, on every interface. */
  address: string;
  /** Interfaces to join the group on and send from. */
  interfaces: MdnsInterface[];
  windowMs: number;
  announceMs: number;
  /** UDP port (5353; tests may move it). */
  port?: number;
}

interface KnownServer extends DiscoveredServer {
  instance: string | null;
  /** performance.now() when last heard. */
  heardAt: number;
}

type Phase = 'idle' | 'discovering' | 'server' | 'agent';

const key = (server: { node_id: string; host: string }): string => `${server.node_id}\u0000${server.host}`;

/**
 * The mDNS backend, for a LAN without NATS: a server announces `_beacon-server._tcp.local`
 * and answers queries for it; a starting node queries and listens for a window, then
 * follows the server it heard (the lowest node id if several) or becomes server. Its
 * queries carry a candidate record, so of two nodes starting together the higher id
 * waits for the lower. Two servers that hear each other anyway (a healed partition, a
 * lost packet) settle it by node id: the higher steps down, says goodbye and follows
 * the lower. Agents drop a server not heard for three announce intervals
 * and elect again. There is no fencing here: multicast gives no shared order.
 */
export class MdnsElection implements ElectionBackend {
  readonly kind: 'mdns' | 'forced';
  private sockets: MdnsSocket[] = [];
  private sink: DecisionSink | null = null;
  private phase: Phase = 'idle';
  private readonly servers = new Map<string, KnownServer>();
  private following: string | null = null;
  private windowTimer: NodeJS.Timeout | null = null;
  private queryTimers: NodeJS.Timeout[] = [];
  private tickTimer: NodeJS.Timeout | null = null;
  private nextAnnounceAt = 0;
  private burstLeft = 0;
  private lastChallengeAt = -Infinity;
  private lastQueryAt = -Infinity;
  /** When a starting node with a lower id was last heard (see `candidateRecord`). */
  private lowerCandidateAt = -Infinity;
  private stopped = false;

  constructor(
    private readonly settings: MdnsSettings,
    private readonly logger: Logger,
    private readonly metrics: ElectorMetrics,
  ) {
    this.kind = settings.mode === 'auto' ? 'mdns' : 'forced';
  }

  async start(sink: DecisionSink): Promise<void> {
    this.sink = sink;
    this.sockets = await this.open();
    this.tickTimer = setInterval(() => this.tick(), Math.min(1000, this.settings.announceMs / 2));
    if (this.settings.mode === 'server') this.becomeServer('ROLE=server');
    else this.discover('starting');
  }

  /** One socket per interface; each passes on only what came in on its own. */
  private async open(): Promise<MdnsSocket[]> {
    const { interfaces, port } = this.settings;
    if (interfaces.length === 0) throw new StartupError(NO_MDNS_INTERFACE);
    const handlers = {
      response: (packet: ResponsePacket, rinfo: RemoteInfo) => this.onResponse(packet, rinfo),
      query: (packet: QueryPacket) => this.onQuery(packet),
      warning: (error: Error) => this.logger.debug({ err: error }, 'mDNS warning'),
    };
    return Promise.all(interfaces.map((iface) => MdnsSocket.open(iface, handlers, port)));
  }

  /** No lease, no deadline. */
  guard(): void {}

  discovered(): DiscoveredServer[] {
    return [...this.servers.values()].map(({ host, port, node_id, mode, last_seen }) => ({ host, port, node_id, mode, last_seen }));
  }

  async stop(settle: () => Promise<boolean>): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    if (this.phase === 'server') {
      this.phase = 'idle';
      this.sink?.decide({ role: 'agent', server: null, fencingToken: null }, 'shutting down');
      if (await settle()) await this.send(this.records(0));
    }
    await Promise.all(this.sockets.map((socket) => socket.close()));
  }

  // --- phases ---

  private discover(reason: string): void {
    if (this.stopped) return;
    this.clearTimers();
    this.phase = 'discovering';
    this.logger.info({ window_ms: this.settings.windowMs, reason }, 'listening for a server');
    // Three queries across the window: one lost packet must not make a second server.
    for (const at of [0, this.settings.windowMs / 3, (this.settings.windowMs * 2) / 3]) {
      this.queryTimers.push(setTimeout(() => this.query(), at));
    }
    this.windowTimer = setTimeout(() => this.conclude(), this.settings.windowMs);
  }

  private conclude(): void {
    this.windowTimer = null;
    const best = preferredServer(this.servers.values());
    if (best) this.follow(best, 'heard a server');
    else if (this.settings.mode === 'auto' && performance.now() - this.lowerCandidateAt < this.settings.windowMs * 1.5) {
      // It becomes server and announces, and we follow; if it vanished, the next window decides.
      this.discover('a node with a lower id is starting too; waiting for it');
    } else if (this.settings.mode === 'agent') {
      this.phase = 'agent';
      this.following = null;
      this.sink?.decide({ role: 'agent', server: null, fencingToken: null }, 'ROLE=agent; no server heard yet');
    } else this.becomeServer(`no server answered within ${this.settings.windowMs} ms`);
  }

  private becomeServer(reason: string): void {
    this.clearTimers();
    this.phase = 'server';
    this.following = null;
    this.logger.info({ reason }, 'becoming server');
    this.sink?.decide({ role: 'server', server: this.selfRef(), fencingToken: null }, reason);
    // RFC 6762 8.3: announce at least twice, a second apart; then keep announcing.
    this.burstLeft = 2;
    this.announce();
  }

  private follow(server: KnownServer, reason: string): void {
    this.clearTimers();
    this.phase = 'agent';
    this.following = key(server);
    const ref: ServerRef = { node_id: server.node_id, host: server.host, port: server.port };
    this.sink?.decide({ role: 'agent', server: ref, fencingToken: null }, reason);
  }

  private stepDownTo(server: KnownServer): void {
    this.metrics.stepDowns.inc({ reason: 'lower_node_id' });
    this.logger.warn({ winner: server.node_id }, 'another server has the lower node id; stepping down to follow it');
    void this.send(this.records(0));
    this.follow(server, `server ${server.node_id} has the lower node id`);
  }

  // --- packets ---

  private onResponse(packet: ResponsePacket, rinfo: RemoteInfo): void {
    if (this.stopped) return;
    const heard = readServers([...packet.answers, ...packet.additionals], rinfo.address);
    let others = 0;
    for (const server of heard) {
      if (server.instance === this.settings.self.instance) continue;
      this.remember(server);
      others += 1;
    }
    if (others > 0) this.settle();
  }

  private remember(server: HeardServer): void {
    const id = key(server);
    if (server.goodbye) {
      if (this.servers.delete(id)) this.logger.info({ node_id: server.node_id }, 'server said goodbye');
      return;
    }
    this.servers.set(id, {
      node_id: server.node_id,
      host: server.host,
      port: server.port,
      mode: 'server',
      instance: server.instance,
      last_seen: new Date().toISOString(),
      heardAt: performance.now(),
    });
  }

  /** After hearing servers: resolve two servers, follow the preferred one, notice loss. */
  private settle(): void {
    const best = preferredServer(this.servers.values());
    if (this.phase === 'server') {
      if (best && this.settings.mode !== 'server' && outranks(best, this.selfRef())) {
        this.stepDownTo(best);
      } else if (best && performance.now() - this.lastChallengeAt > 1000) {
        // Another server ranks below us: make sure it hears us and steps down.
        this.lastChallengeAt = performance.now();
        this.announce();
      }
      return;
    }
    if (this.phase === 'discovering') {
      // No need to sit out the window once a server has answered.
      if (best) this.follow(best, 'heard a server');
      return;
    }
    if (this.phase !== 'agent') return;
    if (this.following !== null && !this.servers.has(this.following)) this.lost('the server said goodbye');
    // Follow the preferred server: a new one when there was none, the lower of two.
    else if (best) this.follow(best, this.following === key(best) ? 'the server moved' : 'heard a server');
  }

  private onQuery(packet: QueryPacket): void {
    if (this.stopped) return;
    if (this.phase === 'discovering') {
      const self = this.selfRef();
      const lower = readCandidates(packet.authorities ?? []).some(
        (candidate) =>
          candidate.instance !== this.settings.self.instance &&
          outranks({ node_id: candidate.node_id, host: '' }, { node_id: self.node_id, host: '' }),
      );
      if (lower) this.lowerCandidateAt = performance.now();
      return;
    }
    if (this.phase !== 'server') return;
    if (!asksForServers(packet.questions, this.settings.self.node_id)) return;
    const records = this.records(this.recordTtl());
    void this.send({ answers: [...records.answers, enumerationRecord(this.recordTtl())], additionals: records.additionals });
  }

  // --- time ---

  private tick(): void {
    if (this.stopped) return;
    const now = performance.now();
    const forgetAfter = this.settings.announceMs * 3;
    for (const [id, server] of this.servers) {
      if (now - server.heardAt > forgetAfter) {
        this.servers.delete(id);
        this.logger.info({ node_id: server.node_id }, 'server not heard for three announce intervals; forgetting it');
      }
    }
    if (this.phase === 'server' && now >= this.nextAnnounceAt) this.announce();
    if (this.phase !== 'agent') return;
    if (this.following !== null && !this.servers.has(this.following)) {
      this.lost('the server went silent');
      return;
    }
    const current = this.following ? this.servers.get(this.following) : undefined;
    const stale = !current || now - current.heardAt > this.settings.announceMs * 1.5;
    if (stale && now - this.lastQueryAt > this.settings.announceMs) this.query();
  }

  private lost(reason: string): void {
    this.following = null;
    if (this.settings.mode === 'agent') {
      const best = preferredServer(this.servers.values());
      if (best) this.follow(best, reason);
      else this.sink?.decide({ role: 'agent', server: null, fencingToken: null }, `${reason}; ROLE=agent waits for another`);
      return;
    }
    const best = preferredServer(this.servers.values());
    if (best) this.follow(best, reason);
    else this.discover(reason);
  }

  private announce(): void {
    void this.send(this.records(this.recordTtl()));
    const gap = this.burstLeft > 0 ? Math.min(1000, this.settings.announceMs) : this.settings.announceMs;
    this.burstLeft = Math.max(0, this.burstLeft - 1);
    this.nextAnnounceAt = performance.now() + gap;
  }

  private query(): void {
    this.lastQueryAt = performance.now();
    const candidate = this.phase === 'discovering' && this.settings.mode === 'auto';
    const authorities = candidate ? [candidateRecord(this.settings.self)] : [];
    for (const socket of this.sockets) {
      void socket.query({ questions: [{ name: SERVICE_NAME, type: 'PTR' }], authorities }).then((error) => {
        if (error) this.logger.debug({ err: error }, 'mDNS query failed');
      });
    }
  }

  /** Multicast on every interface. */
  private async send(packet: { answers: Answer[]; additionals: Answer[] }): Promise<void> {
    const errors = await Promise.all(this.sockets.map((socket) => socket.respond(packet)));
    for (const error of errors) if (error) this.logger.warn({ err: error }, 'mDNS send failed');
  }

  private records(ttl: number): { answers: Answer[]; additionals: Answer[] } {
    const { node_id, instance, host, port } = this.settings.self;
    const announcement: ServerAnnouncement = { node_id, instance, host, port, address: this.settings.address };
    return serverRecords(announcement, ttl);
  }

  /** Caches drop us as agents do: after three announce intervals. */
  private recordTtl(): number {
    return Math.max(1, Math.ceil((this.settings.announceMs * 3) / 1000));
  }

  private selfRef(): ServerRef {
    const { node_id, host, port } = this.settings.self;
    return { node_id, host, port };
  }

  private clearTimers(): void {
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = null;
    for (const timer of this.queryTimers) clearTimeout(timer);
    this.queryTimers = [];
  }
}
