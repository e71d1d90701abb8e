import { defineConfig } from 'tsup';

/** ESM and CJS builds of both entries, with their declarations; Node 20+ and browsers (the root entry uses `fetch` only). */
export default defineConfig({
  entry: { index: 'src/index.ts', nats: 'src/nats.ts' },
  format: ['esm', 'cjs'],
  outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.cjs' }),
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['nats', 'ws', '@beacon/contracts'],
});
