import { describe, expect, it } from 'vitest';
import { entryLimitProblems } from './entry-limits';

describe('entryLimitProblems', () => {
  const limits = { maxTags: 2, maxMetadataKeys: 1 };

  it('accepts what fits, and bodies that leave tags and metadata out or clear them', () => {
    expect(entryLimitProblems({ tags: ['a', 'b'], metadata: { k: 'v' } }, limits)).toEqual([]);
    expect(entryLimitProblems({}, limits)).toEqual([]);
    expect(entryLimitProblems({ tags: null, metadata: null }, limits)).toEqual([]);
  });

  it('names each field over its limit, with the variable that sets it', () => {
    expect(entryLimitProblems({ tags: ['a', 'b', 'c'], metadata: { k: 'v', l: 'w' } }, limits)).toEqual([
      { field: 'tags', message: 'must have at most 2 tags here (BEACON_MAX_TAGS), got 3' },
      { field: 'metadata', message: 'must have at most 1 keys here (BEACON_MAX_METADATA_KEYS), got 2' },
    ]);
  });

  it('counts tags once each, as the record keeps them', () => {
    expect(entryLimitProblems({ tags: ['a', 'a', 'b', 'b'] }, limits)).toEqual([]);
  });

  it('0 allows none', () => {
    expect(entryLimitProblems({ tags: ['a'] }, { maxTags: 0, maxMetadataKeys: 0 })).toHaveLength(1);
    expect(entryLimitProblems({ tags: [] }, { maxTags: 0, maxMetadataKeys: 0 })).toEqual([]);
  });
});
