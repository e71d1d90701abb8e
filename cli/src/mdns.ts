import makeMdns from 'multicast-dns';

/** Beacon itself on the LAN, as mdns-announcer announces it (and seed 000's ESP32 looks it up). */
export const BEACON_MDNS_TYPE = '_beacon._tcp.local';

export interface FoundBeacon {
  url: string;
  instance: string;
}

export interface MdnsRecord {
  name: string;
  type: string;
  data: unknown;
}

/** More `_beacon._tcp` instances than any LAN has: the rest of a flood is not kept. */
const MAX_INSTANCES = 32;

/**
 * What the answers so far say: the instances of `_beacon._tcp`, their SRV records and the
 * addresses of those SRV targets. Records about anything else are not kept, so a responder
 * flooding the LAN with other names cannot grow it (at most MAX_INSTANCES of each).
 */
export class BeaconAnswers {
  private readonly instances = new Set<string>();
  private readonly srv = new Map<string, { port: number; target: string }>();
  private readonly addresses = new Map<string, string>();

  /** Takes one packet's records (in any order) and answers the first Beacon now complete. */
  add(records: MdnsRecord[]): FoundBeacon | undefined {
    for (const record of records) {
      if (record.type === 'PTR' && record.name.toLowerCase() === BEACON_MDNS_TYPE && typeof record.data === 'string')
        if (this.instances.size < MAX_INSTANCES) this.instances.add(record.data);
    }
    for (const record of records) {
      if (record.type !== 'SRV' || !this.instances.has(record.name) || typeof record.data !== 'object' || record.data === null) continue;
      const { port, target } = record.data as { port?: unknown; target?: unknown };
      if (typeof port === 'number' && port > 0 && typeof target === 'string') this.srv.set(record.name, { port, target });
    }
    const targets = new Set([...this.srv.values()].map((where) => where.target));
    for (const record of records) {
      if (record.type === 'A' && targets.has(record.name) && typeof record.data === 'string') this.addresses.set(record.name, record.data);
    }
    for (const instance of this.instances) {
      const where = this.srv.get(instance);
      const address = where === undefined ? undefined : this.addresses.get(where.target);
      if (where !== undefined && address !== undefined)
        return { url: `http://${address.includes(':') ? `[${address}]` : address}:${where.port}`, instance };
    }
    return undefined;
  }

  /** Records kept, all kinds together. */
  get size(): number {
    return this.instances.size + this.srv.size + this.addresses.size;
  }
}

/**
 * Asks `_beacon._tcp.local` once (re-asking twice more within the time) and answers the
 * first instance whose SRV and address are known, or undefined after `timeoutMs`.
 */
export function findBeacon(timeoutMs = 2_000): Promise<FoundBeacon | undefined> {
  return new Promise((resolve) => {
    const mdns = makeMdns();
    const answers = new BeaconAnswers();
    let done = false;
    const finish = (found: FoundBeacon | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(again);
      mdns.destroy();
      resolve(found);
    };
    mdns.on('response', (response: { answers?: MdnsRecord[]; additionals?: MdnsRecord[] }) => {
      const found = answers.add([...(response.answers ?? []), ...(response.additionals ?? [])]);
      if (found !== undefined) finish(found);
    });
    mdns.on('error', () => finish(undefined));
    const ask = (): void => mdns.query({ questions: [{ name: BEACON_MDNS_TYPE, type: 'PTR' }] });
    ask();
    const again = setInterval(ask, Math.max(200, Math.floor(timeoutMs / 3)));
    const timer = setTimeout(() => finish(undefined), timeoutMs);
  });
}
