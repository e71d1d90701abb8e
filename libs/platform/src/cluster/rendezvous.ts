/** 32-bit FNV-1a over UTF-16 code units, then murmur3's finalizer so nearby inputs spread. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Rendezvous (highest random weight) hashing: the owner of a key is the member with the
 * highest score for it. When a member leaves, only its keys move (each to its own
 * runner-up); when one joins, it takes about 1/n of the keys from the others.
 */
export function rendezvousOwner(key: string, members: readonly string[]): string | undefined {
  let owner: string | undefined;
  let best = -1;
  for (const member of members) {
    const score = hash32(`${member}\u0000${key}`);
    if (score > best || (score === best && owner !== undefined && member < owner)) {
      best = score;
      owner = member;
    }
  }
  return owner;
}
