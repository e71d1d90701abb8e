import makeMdns from 'multicast-dns';

/** Beacon itself on the LAN, as mdns-announcer announces it (and seed 000's ESP32 looks it up). */
export const BEACON_MDNS_TYPE = '_beacon._tcp.local';

export interface FoundBeacon {
  url: string;
  instance: string;
}

interface MdnsRecord {
  name: string;
  type: string;
  data: unknown;
}

/**
 * Asks `_beacon._tcp.local` once (re-asking twice more within the time) and answers the
 * first instance whose SRV and address are known, or undefined after `timeoutMs`.
 */
export function findBeacon(timeoutMs = 2_000): Promise<FoundBeacon | undefined> {
  return new Promise((resolve) => {
    const mdns = makeMdns();
    const srv = new Map<string, { port: number; target: string }>();
    const addresses = new Map<string, string>();
    const instances = new Set<string>();
    let done = false;
    const finish = (found: FoundBeacon | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(again);
      mdns.destroy();
      resolve(found);
    };
    const settle = (): void => {
      for (const instance of instances) {
        const where = srv.get(instance);
        if (!where) continue;
        const address = addresses.get(where.target);
        if (address) return finish({ url: `http://${address.includes(':') ? `[${address}]` : address}:${where.port}`, instance });
      }
    };
    mdns.on('response', (response: { answers?: MdnsRecord[]; additionals?: MdnsRecord[] }) => {
      for (const record of [...(response.answers ?? []), ...(response.additionals ?? [])]) {
        if (record.type === 'PTR' && record.name.toLowerCase() === BEACON_MDNS_TYPE && typeof record.data === 'string')
          instances.add(record.data);
        if (record.type === 'SRV' && typeof record.data === 'object' && record.data !== null) {
          const data = record.data as { port: number; target: string };
          srv.set(record.name, { port: data.port, target: data.target });
        }
        if (record.type === 'A' && typeof record.data === 'string') addresses.set(record.name, record.data);
      }
      settle();
    });
    mdns.on('error', () => finish(undefined));
    const ask = (): void => mdns.query({ questions: [{ name: BEACON_MDNS_TYPE, type: 'PTR' }] });
    ask();
    const again = setInterval(ask, Math.max(200, Math.floor(timeoutMs / 3)));
    const timer = setTimeout(() => finish(undefined), timeoutMs);
  });
}
