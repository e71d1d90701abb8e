import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * One config for the workspace. SWC compiles tests because Nest's DI reads decorator
 * metadata that vitest's default transform (esbuild) drops.
 * - unit: pure code beside its source (`src/**\/*.test.ts`), no processes.
 * - integration: real nats-server, real SQLite files, real app processes (built by
 *   `pnpm build`, which `pnpm test` runs first).
 */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['apps/*/test/**/*.test.ts', 'libs/*/test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
          poolOptions: { forks: { maxForks: 2, minForks: 1 } },
        },
      },
    ],
  },
});
