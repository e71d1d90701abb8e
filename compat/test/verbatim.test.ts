import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPAT } from './lan-stack';

/**
 * The copies in compat/seed-* are the seeds' snippets verbatim: after each copy's header comment,
 * with only its declared substitutions undone, the text is one whole code block of the seed
 * (from the line after its opening fence to its closing fence).
 */
const SEEDS = join(COMPAT, '..', '..', 'shared', 'seeds');
const MARKER = /^(?:#|\/\/) --- (?:"[^"]+", )?verbatim from here on ---\n/m;

interface Copy {
  file: string;
  seed: string;
  /** [as in the seed, as in the copy] */
  substitutions?: [string, string][];
  /** Lines of the block kept above the header comment (a shebang). */
  keptAbove?: string;
  /** The end of a block only (the Python lines at the end of a bash block). */
  fragment?: boolean;
}

const SEED_000 = '000_8c56050dbd6cca3f.txt';
const SEED_004 = '004_eb538282ab5e02b5.txt';
const toBeacon: [string, string][] = [['http://localhost:8080', 'http://beacon.local:8097']];
const copies: Copy[] = [
  { file: 'seed-000/register-service.sh', seed: SEED_000, keptAbove: '#!/bin/bash\n' },
  { file: 'seed-000/register-with-health-checks.sh', seed: SEED_000 },
  { file: 'seed-000/register-manual-heartbeat.sh', seed: SEED_000 },
  { file: 'seed-000/troubleshooting-services-not-discovered.sh', seed: SEED_000, substitutions: toBeacon },
  { file: 'seed-000/troubleshooting-high-memory-usage.sh', seed: SEED_000, substitutions: toBeacon },
  { file: 'seed-000/beacon_client.py', seed: SEED_000 },
  { file: 'seed-000/beacon_heartbeat_client.py', seed: SEED_000 },
  { file: 'seed-000/service_with_beacon.py', seed: SEED_000 },
  { file: 'seed-000/beacon-client.js', seed: SEED_000 },
  { file: 'seed-000/esp32_beacon_client.ino', seed: SEED_000 },
  { file: 'seed-000/zeroconf_query_mqtt.py', seed: SEED_000, fragment: true },
  { file: 'seed-000/compose-health-check-registration.yml', seed: SEED_000 },
  { file: 'seed-000/compose-init-container.yml', seed: SEED_000 },
  { file: 'seed-000/compose-sidecar.yml', seed: SEED_000 },
  {
    file: 'seed-004/discovery_client.py',
    seed: SEED_004,
    substitutions: [['http://service-discovery:3004', 'http://service-discovery:8097']],
  },
];

/** Each verbatim part of a copy (a copy may hold several blocks, each after its own marker). */
function parts(text: string): string[] {
  const pieces = text.split(MARKER).slice(1);
  // Blocks are separated in the copy by blank lines; the seed's block ends with one newline.
  return pieces.map((piece) => piece.replace(/\n+$/, '\n'));
}

describe.skipIf(!existsSync(SEEDS))('the seed snippets in compat/ are verbatim', () => {
  it.each(copies)('$file is whole code blocks of $seed', ({ file, seed, substitutions = [], keptAbove = '', fragment = false }) => {
    const seedText = readFileSync(join(SEEDS, seed), 'utf8');
    const copy = readFileSync(join(COMPAT, file), 'utf8');
    const blocks = parts(copy);
    expect(blocks.length).toBeGreaterThan(0);
    blocks.forEach((block, index) => {
      let original = (index === 0 ? keptAbove : '') + block;
      for (const [inSeed, inCopy] of substitutions) original = original.replaceAll(inCopy, inSeed);
      const at = seedText.indexOf(`${original}\`\`\``);
      expect(at, `${file} part ${index + 1} is not the end of a code block of ${seed}`).toBeGreaterThan(0);
      if (fragment) return;
      const before = seedText.slice(0, at).split('\n').at(-2) ?? '';
      expect(before, `${file} part ${index + 1} does not start right after an opening fence`).toMatch(/^\s*```\w+$/);
    });
  });
});
