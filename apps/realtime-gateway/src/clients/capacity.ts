import type { IncomingMessage } from 'node:http';
import { isIP, isIPv4 } from 'node:net';
import type { Refusal } from '../ws/access';

export type CapacityReason = 'gateway_full' | 'address_full';

export interface CapacityLimits {
  /** GATEWAY_MAX_CLIENTS: live sessions in all. */
  maxClients: number;
  /** GATEWAY_MAX_CLIENTS_PER_ADDRESS: live sessions from one client address; 0: no cap. */
  maxPerAddress: number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; reason: CapacityReason; refusal: Refusal };

/**
 * Seconds a refused client is asked to wait. Slots free only as other clients leave, so
 * an immediate retry would most likely be refused again.
 */
export const RETRY_AFTER_SECONDS = 10;

/**
 * The gateway's connection slots, WebSocket and SSE together, taken before the upgrade or
 * the stream's head and given back when the connection ends. Without them every socket
 * (~20 KB each) is accepted until the process runs out of file descriptors, and then new
 * clients hang while /health still says 200.
 */
export class ConnectionCapacity {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly limits: CapacityLimits,
    private readonly onRefused: (reason: CapacityReason) => void = () => undefined,
  ) {}

  get size(): number {
    return this.total;
  }

  held(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** A slot for a client at `address`, or why not; `release` may be called any number of times. */
  admit(address: string): Admission {
    if (this.total >= this.limits.maxClients) return this.refuse('gateway_full', address);
    const held = this.held(address);
    if (this.limits.maxPerAddress > 0 && held >= this.limits.maxPerAddress) return this.refuse('address_full', address);
    this.total += 1;
    this.perAddress.set(address, held + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = this.held(address) - 1;
        if (left > 0) this.perAddress.set(address, left);
        else this.perAddress.delete(address);
      },
    };
  }

  private refuse(reason: CapacityReason, address: string): Admission {
    this.onRefused(reason);
    const refusal =
      reason === 'gateway_full'
        ? {
            status: 503,
            message: `The gateway has its maximum of ${this.limits.maxClients} clients (GATEWAY_MAX_CLIENTS); retry later`,
          }
        : {
            status: 429,
            message: `Too many connections from ${address}: at most ${this.limits.maxPerAddress} per client address (GATEWAY_MAX_CLIENTS_PER_ADDRESS)`,
          };
    return { ok: false, reason, refusal: { ...refusal, retryAfter: RETRY_AFTER_SECONDS } };
  }
}

/** An IPv4 address the way a dual-stack socket reports it (`::ffff:10.0.0.1`) is counted as itself. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * The address a client is counted under: the peer's, except when the peer is nginx on
 * this host (127.0.0.1 or ::1), whose `X-Forwarded-For` ends with the address it saw.
 * Only the last entry: the ones before it are whatever the client chose to send. Any
 * other peer's header is ignored, so a direct client cannot pose as many.
 */
export function clientAddress(request: Pick<IncomingMessage, 'socket' | 'headers'>): string {
  const peer = plain(request.socket.remoteAddress ?? 'unknown');
  if (peer !== '127.0.0.1' && peer !== '::1') return peer;
  const header = request.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  const last = plain(entries[entries.length - 1]?.trim() ?? '');
  return isIP(last) ? last : peer;
}
