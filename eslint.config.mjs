import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'bench/results/**', 'bench/prof/**', '**/scratch/**', 'tools/doc-snippets/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The operator console runs in the browser, as plain ES modules without a build step.
    files: ['packages/console/public/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['document', 'window', 'location', 'history', 'sessionStorage', 'fetch', 'URLSearchParams', 'confirm', 'setInterval', 'clearInterval', 'setTimeout', 'console'].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    // A promise nobody awaits or catches rejects into the void, and an unhandled rejection
    // ends a Node process: every promise is awaited, returned, or handed to `void` on purpose
    // with its own .catch. Typed linting, so it sees what returns a promise.
    files: ['packages/**/*.ts', 'examples/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
  {
    // The core stays free of drivers and of Node-only modules so it runs anywhere.
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/**/*.test.ts', 'packages/core/src/testing/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net'], message: 'core must not depend on Node built-ins' },
          { group: ['pg', 'mysql2', 'better-sqlite3', 'ioredis', 'amqplib', '@nats-io/*'], message: 'core must not depend on drivers' },
        ],
      }],
    },
  },
);
