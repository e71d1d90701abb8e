/**
 * Uptime windows packed into blocks: one row per service series and 6 hours (`BLOCK_S`),
 * holding that span's windows as varints in a BLOB, about 7 bytes a window instead of a
 * ~28-byte row each. A block starts with the step (the greatest common divisor of the
 * windows' distances, the window length); each window then gives its distance from the
 * previous one (from the block's start for the first) in steps, a tag (checks × 8, and
 * flags: response times in order, response times, availability), the failures when it
 * has checks, the availability, and p50 with p95, p99 and max as increases over the one
 * before (or each whole when they are not in order).
 */
export const BLOCK_S = 21_600;

/** One window as a block keeps it: start in epoch s, availability in 1/10,000, times in 0.1 ms. */
export interface Cell {
  start: number;
  checks: number;
  failures: number;
  up: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export const blockOf = (start: number): number => Math.floor(start / BLOCK_S) * BLOCK_S;

const HAS_UP = 1;
const HAS_TIMES = 2;
const IN_ORDER = 4;
const TAG_FLAGS = 8;

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}

function pushVarint(out: number[], value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`uptime block: ${value} is not a small whole number`);
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** Encodes `cells` (sorted by start, distinct, all inside the block that starts at `block`). */
export function encodeBlock(block: number, cells: readonly Cell[]): Buffer {
  let step = 0;
  let previous = block;
  for (const cell of cells) {
    step = gcd(step, cell.start - previous);
    previous = cell.start;
  }
  step = Math.max(step, 1);
  const out: number[] = [];
  pushVarint(out, step);
  previous = block;
  for (const cell of cells) {
    pushVarint(out, (cell.start - previous) / step);
    previous = cell.start;
    const times = cell.p50 === null ? null : [cell.p50, cell.p95 ?? cell.p50, cell.p99 ?? cell.p50, cell.max ?? cell.p50];
    const inOrder = times !== null && times[0]! <= times[1]! && times[1]! <= times[2]! && times[2]! <= times[3]!;
    pushVarint(out, cell.checks * TAG_FLAGS + (inOrder ? IN_ORDER : 0) + (times ? HAS_TIMES : 0) + (cell.up === null ? 0 : HAS_UP));
    if (cell.checks > 0) pushVarint(out, cell.failures);
    if (cell.up !== null) pushVarint(out, cell.up);
    if (times) times.forEach((time, index) => pushVarint(out, inOrder && index > 0 ? time - times[index - 1]! : time));
  }
  return Buffer.from(out);
}

export function decodeBlock(block: number, blob: Uint8Array): Cell[] {
  let at = 0;
  const next = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = blob[at++];
      if (byte === undefined) throw new RangeError('uptime block: truncated');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  const cells: Cell[] = [];
  if (blob.length === 0) return cells;
  const step = next();
  let start = block;
  while (at < blob.length) {
    start += next() * step;
    const tag = next();
    const checks = Math.floor(tag / TAG_FLAGS);
    const failures = checks > 0 ? next() : 0;
    const up = tag & HAS_UP ? next() : null;
    let times: number[] | null = null;
    if (tag & HAS_TIMES) {
      times = [next(), next(), next(), next()];
      if (tag & IN_ORDER) for (let index = 1; index < 4; index += 1) times[index] = times[index]! + times[index - 1]!;
    }
    cells.push({
      start,
      checks,
      failures,
      up,
      p50: times?.[0] ?? null,
      p95: times?.[1] ?? null,
      p99: times?.[2] ?? null,
      max: times?.[3] ?? null,
    });
  }
  return cells;
}

/** `cells` with `updates` put in (a window of the same start replaced), sorted by start. */
export function mergeCells(cells: readonly Cell[], updates: readonly Cell[]): Cell[] {
  const byStart = new Map(cells.map((cell) => [cell.start, cell]));
  for (const cell of updates) byStart.set(cell.start, cell);
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}
