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
