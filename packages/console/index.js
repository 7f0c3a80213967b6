import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The console's own files (index.html, app modules, styles). */
export const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

/**
 * URL prefix → directory, for a static file server such as @concord/http's `StaticMounts`:
 * the console under `prefix` and its two small runtime libraries (Preact and htm, about 15 kB
 * together) under `prefix/vendor/…`, resolved from node_modules, so there is no build step.
 * The vendor mounts come first: servers match prefixes in order.
 */
export function consoleMounts(prefix = "/console") {
  return {
    // Each resolves to the package's dist folder, which also holds the browser build (*.module.js).
    [`${prefix}/vendor/preact`]: dirname(require.resolve('preact')),
    [`${prefix}/vendor/preact-hooks`]: dirname(require.resolve('preact/hooks')),
    [`${prefix}/vendor/htm`]: dirname(require.resolve('htm')),
    [prefix]: CONSOLE_DIR,
  };
}
