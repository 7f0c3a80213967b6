import type { Migration } from '../sql/migrations.js';

/**
 * The definition version each saga instance started on. A component of its own ("saga-versions")
 * so its numbers never collide with the store's or another module's. Rows written before it have
 * NULL: they run on the current definition, as they did before versions were recorded.
 */
export const sagaVersionMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'saga instances record their definition version',
    up: (d) => [`ALTER TABLE ${d.table('saga_instances')} ADD COLUMN definition_version ${d.types.key} NULL`],
  },
];
