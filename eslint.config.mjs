// Lint for the whole workspace (`pnpm lint`): typescript-eslint's type-aware rules on the
// TypeScript of libs, apps and tests, JavaScript's recommended rules on the launcher,
// the benchmark and the dashboard; formatting is Prettier's (eslint-config-prettier
// turns off every rule that would fight it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.turbo/**',
      'coverage/**',
      'test-output/**',
      'bench/results/**',
      'data/**',
      // The seeds' client snippets, kept verbatim on purpose (compat/test/verbatim.test.ts checks them).
      'compat/seed-*/**',
    ],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Synchronous adapters (the SQLite store, the pinned election) meet Promise-returning
      // ports with `async` methods, so a throw reaches the caller as a rejection, as from
      // their asynchronous twins: an async function without `await` is deliberate here.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests: vitest's asymmetric matchers (expect.any, expect.arrayContaining) are typed `any`.
    files: ['**/*.test.ts', '**/test/**/*.ts', '**/*.fixture.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    // `_` marks what is destructured only to leave it out (`const { a: _a, ...rest } = o`).
    rules: { 'no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }] },
  },
  {
    files: ['apps/realtime-gateway/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  prettier,
);
