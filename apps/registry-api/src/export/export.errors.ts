import { DomainError } from '@beacon/platform';

/** An import without `merge=true` into a store that holds services. */
export class CatalogNotEmpty extends DomainError {
  readonly kind = 'conflict';
  constructor(size: number) {
    super(
      `Import refused, nothing imported: the catalog already holds ${size} services. Import into an empty store, ` +
        "or add ?merge=true to upsert the file's services by service_id (they replace stored ones with the same id)",
    );
  }
}

/** A merge whose record claims an identity a stored record (not in the file) holds. */
export class ImportIdentityTaken extends DomainError {
  readonly kind = 'conflict';
  constructor(line: number, reason: string) {
    super(`Import refused, nothing imported: line ${line}: ${reason}`);
  }
}
