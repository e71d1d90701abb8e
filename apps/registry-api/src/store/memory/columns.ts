/** A growable column of numbers indexed by slot: the same array when big enough, else a copy at least twice the size. */
export function grow<T extends Int32Array | Float64Array | Uint32Array | Uint8Array>(column: T, size: number): T {
  if (column.length >= size) return column;
  const next = new (column.constructor as new (length: number) => T)(Math.max(size, column.length * 2));
  next.set(column);
  return next;
}
