import { StartupError } from '@beacon/platform';
import makeMdns, {
  type MulticastDNS,
  type QueryOutgoingPacket,
  type QueryPacket,
  type ResponseOutgoingPacket,
  type ResponsePacket,
} from 'multicast-dns';
import type { RemoteInfo } from 'node:dgram';
import { inSubnet, type MdnsInterface } from './interfaces';
import { MDNS_PORT } from './protocol';

export interface MdnsSocketHandlers {
  query?(packet: QueryPacket, rinfo: RemoteInfo): void;
  response?(packet: ResponsePacket, rinfo: RemoteInfo): void;
  warning?(error: Error): void;
}

export type OutgoingResponse = ResponseOutgoingPacket;
export type OutgoingQuery = QueryOutgoingPacket;

/**
 * One interface's mDNS socket: joins 224.0.0.251 there, sends from it, and passes on only
 * packets from that interface's subnet (or its own address, as its multicast loops back).
 */
export class MdnsSocket {
  private constructor(
    readonly iface: MdnsInterface,
    private readonly socket: MulticastDNS,
  ) {}

  /**
   * Bound to the wildcard address: a socket bound to a unicast address never sees
   * multicast on Linux. The interface still chooses the group membership and the sender.
   */
  static open(iface: MdnsInterface, handlers: MdnsSocketHandlers, port = MDNS_PORT): Promise<MdnsSocket> {
    const socket = makeMdns({ port, interface: iface.address, bind: '0.0.0.0', reuseAddr: true, loopback: true });
    // Every socket on the port hears every interface: keep what came in on this one.
    const local = (rinfo: RemoteInfo): boolean => rinfo.address === iface.address || inSubnet(rinfo.address, iface);
    socket.on('query', (packet: QueryPacket, rinfo: RemoteInfo) => local(rinfo) && handlers.query?.(packet, rinfo));
    socket.on('response', (packet: ResponsePacket, rinfo: RemoteInfo) => local(rinfo) && handlers.response?.(packet, rinfo));
    socket.on('warning', (error: Error) => handlers.warning?.(error));
    return new Promise((resolve, reject) => {
      socket.once('ready', () => resolve(new MdnsSocket(iface, socket)));
      socket.once('error', (error: Error) =>
        reject(new StartupError(`mDNS could not open UDP port ${port} on ${iface.name} (${iface.address}): ${error.message}`)),
      );
    });
  }

  /**
   * Multicast, or unicast to `to`; resolves with the send error, if any. A record the
   * encoder cannot write (dns-packet throws while encoding) is such an error too, never a
   * rejection: callers fire and forget, and an unhandled rejection would end the process.
   */
  respond(packet: OutgoingResponse, to?: { address: string; port: number }): Promise<Error | null> {
    return new Promise((resolve) => {
      const done = (error: Error | null): void => resolve(error);
      try {
        if (to) this.socket.respond(packet, to, done);
        else this.socket.respond(packet, done);
      } catch (error) {
        resolve(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  query(packet: OutgoingQuery): Promise<Error | null> {
    return new Promise((resolve) => this.socket.query(packet, (error: Error | null) => resolve(error)));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.destroy(() => resolve()));
  }
}
