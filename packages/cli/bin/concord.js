#!/usr/bin/env node
/* global URL */
// Runs the built CLI when there is one (a published install), otherwise the TypeScript source
// through tsx (a checkout after `npm install`), so `npx concord` works in both without a build.
import { existsSync } from 'node:fs';

const built = new URL('../dist/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
