import { isIP } from 'node:net';

/**
 * IP addresses and CIDR ranges, all held as 16 bytes: IPv4 as its IPv4-mapped IPv6 form
 * (`::ffff:a.b.c.d`), so an IPv4 range also catches the same address written as mapped
 * IPv6 — the spelling an SSRF payload would use to slip past a v4-only check.
 */

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] as const;

export interface CidrRange {
  /** As configured, e.g. `169.254.0.0/16`. */
  text: string;
  bytes: Uint8Array;
  /** Prefix length in the 128-bit space (an IPv4 /16 is /112 here). */
  bits: number;
}

function parseV4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    // Leading zeros are octal to inet_aton and decimal to others: refuse the ambiguity.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    octets.push(value);
  }
  return octets;
}

function parseV6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseV4(piece);
        if (!v4) return null;
        groups.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9a-f]{1,4}$/i.test(piece)) return null;
      groups.push(parseInt(piece, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0] as string);
  const tail = halves.length === 2 ? groupsOf(halves[1] as string) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

/** 16 bytes for an IPv4 or IPv6 address (zone id ignored), or null if it is not one. */
export function parseIp(text: string): Uint8Array | null {
  const address = text.trim().replace(/%.*$/, '');
  if (address.includes(':')) {
    const bytes = parseV6(address);
    return bytes ? Uint8Array.from(bytes) : null;
  }
  const octets = parseV4(address);
  return octets ? Uint8Array.from([...V4_MAPPED_PREFIX, ...octets]) : null;
}

/** A range from `a.b.c.d/n`, `x::/n`, or a single address (a /32 or /128); null if malformed. */
export function parseCidr(text: string): CidrRange | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  if (addressText.includes('%')) return null;
  const bytes = parseIp(addressText);
  if (!bytes) return null;
  const isV6 = addressText.includes(':');
  const maxBits = isV6 ? 128 : 32;
  let prefix = maxBits;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > maxBits) return null;
  }
  const bits = isV6 ? prefix : 96 + prefix;
  return { text: trimmed, bytes: mask(bytes, bits), bits };
}

function mask(bytes: Uint8Array, bits: number): Uint8Array {
  const masked = Uint8Array.from(bytes);
  for (let index = 0; index < 16; index += 1) {
    const keep = Math.max(0, Math.min(8, bits - index * 8));
    masked[index] = (masked[index] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return masked;
}

function contains(range: CidrRange, address: Uint8Array): boolean {
  const whole = range.bits >> 3;
  for (let index = 0; index < whole; index += 1) if (range.bytes[index] !== address[index]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const bitMask = (0xff << (8 - rest)) & 0xff;
  return ((address[whole] as number) & bitMask) === range.bytes[whole];
}

/** A list of ranges; `match` names the first one an address falls in. */
export class CidrSet {
  private readonly ranges: CidrRange[];

  /** Throws on a malformed entry (configuration validates them first, naming the bad one). */
  constructor(entries: readonly string[]) {
    this.ranges = entries.map((entry) => {
      const range = parseCidr(entry);
      if (!range) throw new Error(`not an IP address or CIDR range: "${entry}"`);
      return range;
    });
  }

  get size(): number {
    return this.ranges.length;
  }

  /** The range (as configured) that holds `address`, or null; an unparsable address matches nothing. */
  match(address: string): string | null {
    const bytes = parseIp(address);
    if (!bytes) return null;
    return this.ranges.find((range) => contains(range, bytes))?.text ?? null;
  }

  toString(): string {
    return this.ranges.map((range) => range.text).join(',');
  }
}

/** True when Node would connect to `host` as-is, without a DNS lookup (and so without our guard's lookup). */
export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}
