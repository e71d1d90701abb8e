/**
 * Strings ↔ small integers, with reference counts. The catalog index compares codes,
 * not strings: a scan over 10,000 records then touches only small integer rows, not the
 * records and their strings scattered across the heap (one cache miss each).
 */
export class CodeBook {
  private readonly codes = new Map<string, { code: number; refs: number }>();
  private nextCode = 1;

  /** The code of a value, or 0 when no record holds it. */
  find(value: string): number {
    return this.codes.get(value)?.code ?? 0;
  }

  acquire(value: string): number {
    let entry = this.codes.get(value);
    if (!entry) {
      entry = { code: this.nextCode++, refs: 0 };
      this.codes.set(value, entry);
    }
    entry.refs += 1;
    return entry.code;
  }

  release(value: string): void {
    const entry = this.codes.get(value);
    if (!entry) return;
    entry.refs -= 1;
    if (entry.refs <= 0) this.codes.delete(value);
  }

  /** Each value held by at least one record, with how many hold it. */
  *counts(): IterableIterator<[string, number]> {
    for (const [value, entry] of this.codes) yield [value, entry.refs];
  }

  /** Values held by at least one record, in no particular order. */
  values(): IterableIterator<string> {
    return this.codes.keys();
  }
}
