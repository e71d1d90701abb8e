import type { Service } from '@beacon/contracts';

/** About how much of a snapshot is encoded at a time: each part is written once the client has room for it. */
const PART_CHARS = 64 * 1024;

/**
 * The `snapshot` control message in parts, encoded as they are written: the same JSON as
 * `control('snapshot', { data: { services, total }, seq, revision })`, but never a whole
 * catalog in one string per client (15 clients that did not read once held 591 MB).
 */
export function* snapshotParts(services: readonly Service[], position: { seq: number; revision: number }): Generator<string> {
  yield '{"type":"snapshot","data":{"services":[';
  let part = '';
  for (const [index, service] of services.entries()) {
    part += (index === 0 ? '' : ',') + JSON.stringify(service);
    if (part.length >= PART_CHARS) {
      yield part;
      part = '';
    }
  }
  const timestamp = new Date().toISOString();
  yield `${part}],"total":${services.length}},"seq":${position.seq},"revision":${position.revision},"timestamp":"${timestamp}"}`;
}
