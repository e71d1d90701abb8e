import type { FieldError } from '@beacon/contracts';
import { InvalidInputException } from '@beacon/platform';
import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';

/**
 * How many tags and metadata keys one service may carry here. The contract's `LIMITS`
 * are the ceiling every deployment shares (they bound what one record can put into
 * events and TXT records); these are the deployment's own, at or below it.
 */
export interface EntryLimits {
  maxTags: number;
  maxMetadataKeys: number;
}

export const entryLimitsOf = (config: RegistryEnv): EntryLimits => ({
  maxTags: config.BEACON_MAX_TAGS,
  maxMetadataKeys: config.BEACON_MAX_METADATA_KEYS,
});

/** The part of a registration or update body these limits look at (already validated). */
interface Entries {
  tags?: readonly string[] | null;
  metadata?: Readonly<Record<string, string>> | null;
}

/** What breaks the deployment's limits, one error per field. Tags count once each, as they are stored. */
export function entryLimitProblems(body: Entries, limits: EntryLimits): FieldError[] {
  const problems: FieldError[] = [];
  const tags = new Set(body.tags ?? []).size;
  if (tags > limits.maxTags) {
    problems.push({ field: 'tags', message: `must have at most ${limits.maxTags} tags here (BEACON_MAX_TAGS), got ${tags}` });
  }
  const keys = Object.keys(body.metadata ?? {}).length;
  if (keys > limits.maxMetadataKeys) {
    problems.push({
      field: 'metadata',
      message: `must have at most ${limits.maxMetadataKeys} keys here (BEACON_MAX_METADATA_KEYS), got ${keys}`,
    });
  }
  return problems;
}

/**
 * Runs after the contract's pipe on bodies that set tags or metadata:
 * `@Body(ContractPipe.of(RegisterServiceDto), EntryLimitsPipe)`. A 400 in the same shape
 * as every validation error.
 */
@Injectable()
export class EntryLimitsPipe implements PipeTransform<Entries, Entries> {
  private readonly limits: EntryLimits;

  constructor(@Inject(REGISTRY_ENV) config: RegistryEnv) {
    this.limits = entryLimitsOf(config);
  }

  transform(body: Entries): Entries {
    const problems = entryLimitProblems(body, this.limits);
    if (problems.length > 0) throw new InvalidInputException(problems, 'body');
    return body;
  }
}
