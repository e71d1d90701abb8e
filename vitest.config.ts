import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * One config for the workspace. SWC compiles tests because Nest's DI reads decorator
 * metadata that vitest's default transform (esbuild) drops.
 * - unit: pure code beside its source (`src/**\/*.test.ts`), no processes.
 * - integration: real nats-server, real SQLite files, real app processes (built by
 *   `pnpm build`, which `pnpm test` runs first).
 * - compat: the seed documents' clients, as printed, against the launcher's whole stack.
 * - security: attacks reproduced against real processes and the permissioned nats-server; fuzzing.
 */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'cli/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['apps/*/test/**/*.test.ts', 'libs/*/test/**/*.test.ts', 'e2e/test/**/*.test.ts', 'cli/test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
          poolOptions: { forks: { maxForks: 2, minForks: 1 } },
        },
      },
      {
        extends: true,
        test: {
          // The seeds' client snippets, verbatim, against the whole stack on a netns LAN (compat/).
          name: 'compat',
          include: ['compat/test/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          poolOptions: { forks: { maxForks: 1, minForks: 1 } },
        },
      },
      {
        extends: true,
        test: {
          // Issue 13's attacks, each reproduced against real processes and shown refused or bounded;
          // property-based fuzzing of every REST validator and NATS contract (security/).
          name: 'security',
          include: ['security/test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          poolOptions: { forks: { maxForks: 2, minForks: 1 } },
        },
      },
    ],
  },
});
