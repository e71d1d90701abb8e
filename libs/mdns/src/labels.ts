/** A DNS label is at most 63 bytes. */
export const LABEL_MAX = 63;

/** The longest prefix of `text` within `maxBytes` of UTF-8, never splitting a character. */
export function utf8Cut(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back off to the start of a UTF-8 sequence so the cut never splits a character.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}

/** An instance label (RFC 6763 §4.1): dots would split it into several labels, and it fits 63 bytes. */
export function instanceLabel(name: string): string {
  return utf8Cut(name.replaceAll('.', '-'), LABEL_MAX);
}

/** A whole DNS name is at most 255 bytes on the wire (RFC 1035 §2.3.4). */
const NAME_MAX = 255;

/**
 * Why a name cannot be written into a DNS packet (an empty or over-long label, or the
 * whole name too long), or null when it can.
 */
export function dnsNameProblem(name: string): string | null {
  const labels = name.replace(/\.$/, '').split('.');
  let wire = 1;
  for (const label of labels) {
    const bytes = Buffer.byteLength(label, 'utf8');
    if (bytes === 0) return `"${name}" has an empty label`;
    if (bytes > LABEL_MAX) return `a label of "${name}" is ${bytes} bytes (at most ${LABEL_MAX})`;
    wire += bytes + 1;
  }
  return wire > NAME_MAX ? `"${name}" is ${wire} bytes on the wire (at most ${NAME_MAX})` : null;
}
