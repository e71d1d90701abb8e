import { MDNS_PORT, MdnsSocket, type MdnsInterface, type OutgoingResponse } from '@beacon/mdns';
import type { QueryPacket } from 'multicast-dns';
import type { RemoteInfo } from 'node:dgram';
import type { Logger } from 'pino';
import { dataKey, recordIdentity, toWire, type DnsRecord } from '../records/dns';
import { RecordIndex, recordsOf } from '../records/record-index';
import type { ServiceRecords } from '../records/service-records';
import { GoodbyeQueue } from './goodbye-queue';

/** RFC 6762 §8.3: announce twice, one second apart. */
const ANNOUNCE_AGAIN_MS = 1000;
/** RFC 6762 §6.7: legacy unicast answers carry a TTL of at most 10 s. */
const LEGACY_TTL = 10;
/**
 * Announcements leave at a bounded rate: every tick, at most this many groups, several to
 * a packet (RFC 6762 §6 lets answers be aggregated). A burst of 10,000 registrations is then
 * 100 packets a second for a few seconds, not 20,000 packets at once. Five groups with the
 * largest TXT (1,300 bytes) stay under the 9,000-byte mDNS packet limit (§17).
 */
const ANNOUNCE_TICK_MS = 100;
const GROUPS_PER_TICK = 50;
const GROUPS_PER_PACKET = 5;
/**
 * Goodbyes share that budget: 10,000 services leaving at once are withdrawn over 20 s, not
 * in one burst. At most this many groups wait (about 2 KB each); past it the oldest
 * goodbye is dropped and those records leave caches when their TTL runs out.
 */
const MAX_PENDING_GOODBYES = 10_000;
/**
 * How long `stop` goes on saying goodbye at that pace (1,000 groups) before it closes the
 * socket anyway: shutdown and a vanished interface cannot wait minutes for 100,000.
 */
const STOP_GOODBYES_MS = 2_000;

const withdrawn = (record: DnsRecord): DnsRecord => ({ ...record, ttl: 0 });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ResponderEvents {
  answered(): void;
  goodbye(count: number): void;
  /** Goodbyes for `count` groups never sent: the queue was full, or `stop` ran out of time. */
  goodbyesDropped(count: number): void;
}

type Question = QueryPacket['questions'][number];

/**
 * dns-packet reads the class of a question before taking its top bit (the QU bit, RFC
 * 6762 §5.4), so a unicast-response question arrives as class `UNKNOWN_32769`.
 */
export function questionClass(question: Pick<Question, 'class'>): { internet: boolean; unicast: boolean } {
  const raw = String(question.class);
  const unknown = /^UNKNOWN_(\d+)$/.exec(raw);
  if (!unknown) return { internet: raw === 'IN' || raw === 'ANY', unicast: false };
  const value = Number(unknown[1]);
  return { internet: (value & 0x7fff) === 1 || (value & 0x7fff) === 255, unicast: (value & 0x8000) !== 0 };
}

/**
 * One interface's mDNS responder (RFC 6762) over `multicast-dns`: answers questions for
 * the records in its index (unicast when asked, RFC 6762 §5.4/§6.7), leaves out answers
 * the querier already knows (known-answer suppression, §7.1), announces new and changed
 * records twice (§8.3), and says goodbye with TTL 0 (§10.1); announcements and goodbyes
 * leave at a bounded rate (§6).
 */
export class Responder {
  readonly index: RecordIndex;
  private socket: MdnsSocket | null = null;
  /** Groups to announce for the first time, in order. */
  private readonly fresh = new Set<string>();
  /** Groups announced once, with when to repeat (in due order: each is now + 1 s). */
  private readonly again = new Map<string, number>();
  private readonly goodbyes = new GoodbyeQueue(MAX_PENDING_GOODBYES);
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    private address: MdnsInterface,
    domain: string,
    private readonly logger: Logger,
    private readonly events: ResponderEvents,
  ) {
    this.index = new RecordIndex(domain);
  }

  get running(): boolean {
    return this.socket !== null;
  }

  get iface(): MdnsInterface {
    return this.address;
  }

  /** Joins 224.0.0.251 on this interface and hears the queries that come in on it. */
  async start(): Promise<void> {
    this.socket = await this.open(this.address);
  }

  /**
   * The interface has another address now: answer from a socket on it. The old socket is
   * closed without goodbyes (its address may no longer send); the caller puts again the
   * records that named the old address, and `put` withdraws those through the new socket.
   */
  async moveTo(iface: MdnsInterface): Promise<void> {
    const socket = await this.open(iface);
    const old = this.socket;
    this.socket = socket;
    this.address = iface;
    await old?.close();
  }

  private open(iface: MdnsInterface): Promise<MdnsSocket> {
    return MdnsSocket.open(iface, {
      query: (packet, rinfo) => this.onQuery(packet, rinfo),
      warning: (error) => this.logger.debug({ err: error }, 'mdns warning'),
    });
  }

  /** Serves a group (replacing the one under `key`) and announces it. */
  put(key: string, group: ServiceRecords): void {
    const previous = this.index.get(key);
    this.index.put(key, group);
    const records = recordsOf(group);
    this.goodbyes.cancel(records);
    // Old records the new version does not repeat (another port, TXT, name or target) are
    // withdrawn exactly: a goodbye names the old data, so caches drop only that.
    if (previous) {
      const current = new Set(records.map(recordIdentity));
      this.goodbye(
        key,
        recordsOf(previous).filter((record) => !current.has(recordIdentity(record))),
      );
    }
    this.announce(key);
  }

  /** Stops serving a group and says goodbye for its records. */
  remove(key: string): void {
    const group = this.index.remove(key);
    this.fresh.delete(key);
    this.again.delete(key);
    if (group) this.goodbye(key, recordsOf(group));
  }

  /**
   * Goodbye for everything (pending goodbyes first) at the announcement pace for up to
   * `STOP_GOODBYES_MS`, or until a send fails (the interface is gone); then the socket closes.
   */
  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.fresh.clear();
    this.again.clear();
    const groups = [...this.goodbyes.take(Infinity), ...this.index.groupsNow().map(recordsOf)];
    const deadline = Date.now() + STOP_GOODBYES_MS;
    let sent = 0;
    while (sent < groups.length) {
      if (sent > 0) await sleep(ANNOUNCE_TICK_MS);
      if (sent > 0 && Date.now() > deadline) break;
      const batch = groups.slice(sent, sent + GROUPS_PER_TICK);
      if (!(await this.sendGoodbyes(batch))) break;
      sent += batch.length;
    }
    if (sent < groups.length) this.events.goodbyesDropped(groups.length - sent);
    await this.socket?.close();
    this.socket = null;
  }

  /** Queued: the ticker sends it, then again a second later (a change before then starts over). */
  private announce(key: string): void {
    this.again.delete(key);
    this.fresh.add(key);
    this.ticker ??= setInterval(() => this.tick(), ANNOUNCE_TICK_MS);
  }

  /** Queued behind the goodbyes before it; sent by the ticker. */
  private goodbye(key: string, records: DnsRecord[]): void {
    if (records.length === 0) return;
    const dropped = this.goodbyes.add(key, records);
    if (dropped > 0) this.events.goodbyesDropped(dropped);
    this.ticker ??= setInterval(() => this.tick(), ANNOUNCE_TICK_MS);
  }

  /** Up to `GROUPS_PER_TICK` groups: repeats that are due first, then goodbyes, then new ones. */
  private tick(): void {
    const now = Date.now();
    const batch: string[] = [];
    for (const [key, due] of this.again) {
      if (due > now || batch.length >= GROUPS_PER_TICK) break;
      this.again.delete(key);
      batch.push(key);
    }
    const goodbyes = this.goodbyes.take(GROUPS_PER_TICK - batch.length);
    void this.sendGoodbyes(goodbyes);
    for (const key of this.fresh) {
      if (batch.length + goodbyes.length >= GROUPS_PER_TICK) break;
      this.fresh.delete(key);
      this.again.set(key, now + ANNOUNCE_AGAIN_MS);
      batch.push(key);
    }
    for (let start = 0; start < batch.length; start += GROUPS_PER_PACKET) {
      const groups = batch.slice(start, start + GROUPS_PER_PACKET).map((key) => this.index.get(key));
      void this.send({ answers: groups.flatMap((group) => (group ? recordsOf(group) : [])) });
    }
    if (this.fresh.size === 0 && this.again.size === 0 && this.goodbyes.size === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  /** Goodbyes for `groups`, several to a packet; false when a send failed. */
  private async sendGoodbyes(groups: DnsRecord[][]): Promise<boolean> {
    const packets: Promise<boolean>[] = [];
    for (let start = 0; start < groups.length; start += GROUPS_PER_PACKET) {
      const records = groups.slice(start, start + GROUPS_PER_PACKET).flat();
      packets.push(
        this.send({ answers: records.map(withdrawn) }).then((sent) => {
          if (sent) this.events.goodbye(records.length);
          return sent;
        }),
      );
    }
    return (await Promise.all(packets)).every(Boolean);
  }

  /** A query that came in on this responder's interface (the socket keeps only those). */
  private onQuery(packet: QueryPacket, rinfo: RemoteInfo): void {
    const legacy = rinfo.port !== MDNS_PORT;
    let unicast = legacy;
    const answers: DnsRecord[] = [];
    for (const question of packet.questions) {
      const { internet, unicast: qu } = questionClass(question);
      if (!internet) continue;
      unicast ||= qu;
      for (const record of this.index.answer(question.name, String(question.type))) if (!answers.includes(record)) answers.push(record);
    }
    const known = packet.answers ?? [];
    const fresh = answers.filter(
      (record) =>
        !known.some(
          (k) =>
            String(k.name).toLowerCase() === record.name.toLowerCase() &&
            k.type === record.type &&
            (k.ttl ?? 0) >= record.ttl / 2 &&
            dataKey({ type: record.type, data: k.data as DnsRecord['data'] | Buffer[] }) === dataKey(record),
        ),
    );
    if (fresh.length === 0) return;
    const additionals = this.index.additionals(fresh);
    this.events.answered();
    if (legacy) {
      const legacyRecord = (record: DnsRecord): DnsRecord => ({ ...record, flush: false, ttl: Math.min(record.ttl, LEGACY_TTL) });
      void this.send(
        { id: packet.id, questions: packet.questions, answers: fresh.map(legacyRecord), additionals: additionals.map(legacyRecord) },
        rinfo,
      );
    } else {
      void this.send({ answers: fresh, additionals }, unicast ? rinfo : undefined);
    }
  }

  /** True when sent (or nothing to send); false without a socket or when sending failed (logged). */
  private async send(
    response: { id?: number; questions?: Question[]; answers: DnsRecord[]; additionals?: DnsRecord[] },
    to?: RemoteInfo,
  ): Promise<boolean> {
    if (response.answers.length === 0) return true;
    if (!this.socket) return false;
    const packet = {
      ...response,
      answers: response.answers.map(toWire),
      ...(response.additionals && { additionals: response.additionals.map(toWire) }),
    };
    const error = await this.socket.respond(packet as unknown as OutgoingResponse, to && { address: to.address, port: to.port });
    if (error) this.logger.warn({ err: error }, 'mdns send failed');
    return !error;
  }
}
