import type { ServiceSchema } from '@concord/example-customers-orders/service-schema';

/**
 * The Purchase service's tables in its MySQL database, beside Concord's own (outbox, inbox,
 * broker), versioned in their own table `inventory_migrations`. MySQL is the record: products,
 * every unit stocked (restocks, the first stock included), every purchase and its outcome, and
 * every decision reconciliation or a person made.
 */
export const inventorySchema: ServiceSchema = {
  name: 'inventory',
  migrations: [
    {
      version: 1,
      name: 'products, restocks, purchases, stock generation, reconciliation log',
      // IF NOT EXISTS: databases from before decision 038 have these tables, versioned in
      // Concord's ledger then; the first start since records them here.
      up: () => [
        `CREATE TABLE IF NOT EXISTS inventory_products (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL,
        created_at BIGINT NOT NULL)`,
        // applied_at: set in the same transaction as the consumer's inbox row, once Redis holds it.
        `CREATE TABLE IF NOT EXISTS inventory_restocks (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, product_id BIGINT NOT NULL,
        quantity INT NOT NULL, applied_at BIGINT NULL, idempotency_key VARCHAR(191) NULL, request_fingerprint VARCHAR(200) NULL,
        created_at BIGINT NOT NULL, KEY restocks_product (product_id), UNIQUE KEY restocks_idempotency (idempotency_key))`,
        // stock_generation: the Redis generation whose ledger decided the outcome (see stock-rebuild.ts).
        `CREATE TABLE IF NOT EXISTS inventory_purchases (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, product_id BIGINT NOT NULL,
        quantity INT NOT NULL, state VARCHAR(16) NOT NULL, rejection_reason VARCHAR(32) NULL,
        idempotency_key VARCHAR(191) NULL, request_fingerprint VARCHAR(200) NULL, stock_generation BIGINT NULL,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        UNIQUE KEY purchases_idempotency (idempotency_key), KEY purchases_product_state (product_id, state))`,
        // One row: the generation of the Redis contents. Bumped by every rebuild; consumers hold a
        // shared lock on it while they record an outcome, so a rebuild waits for them or they retry.
        `CREATE TABLE IF NOT EXISTS inventory_stock_generation (id TINYINT NOT NULL PRIMARY KEY, generation BIGINT NOT NULL)`,
        `INSERT IGNORE INTO inventory_stock_generation (id, generation) VALUES (1, 0)`,
        // A ledger entry a person accepted although no purchase or restock stands behind it.
        `CREATE TABLE IF NOT EXISTS inventory_stock_adjustments (product_id BIGINT NOT NULL, message_id VARCHAR(191) NOT NULL,
        delta INT NOT NULL, item_id BIGINT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (product_id, message_id))`,
        `CREATE TABLE IF NOT EXISTS inventory_reconcile_runs (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, actor VARCHAR(200) NOT NULL,
        started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL, checked INT NOT NULL, report LONGTEXT NOT NULL)`,
        // open_key is the ledger entry's id while the item is open, NULL once resolved: one open item per entry.
        `CREATE TABLE IF NOT EXISTS inventory_reconcile_items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, run_id BIGINT NOT NULL,
        product_id BIGINT NOT NULL, message_id VARCHAR(191) NOT NULL, delta INT NOT NULL, reason VARCHAR(64) NOT NULL,
        description TEXT NOT NULL, state VARCHAR(16) NOT NULL, open_key VARCHAR(191) NULL, created_at BIGINT NOT NULL,
        resolved_by VARCHAR(200) NULL, resolved_at BIGINT NULL, resolution VARCHAR(16) NULL, note TEXT NULL,
        UNIQUE KEY items_open (open_key))`,
        `CREATE TABLE IF NOT EXISTS inventory_reconcile_actions (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, run_id BIGINT NULL,
        item_id BIGINT NULL, product_id BIGINT NOT NULL, kind VARCHAR(32) NOT NULL, actor VARCHAR(200) NOT NULL,
        at BIGINT NOT NULL, why TEXT NOT NULL, detail LONGTEXT NOT NULL, KEY actions_at (at))`,
      ],
    },
  ],
};
