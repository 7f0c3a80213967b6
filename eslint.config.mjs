import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'bench/results/**', 'bench/prof/**', '**/scratch/**'] },
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
