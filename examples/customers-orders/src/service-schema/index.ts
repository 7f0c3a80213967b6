export { serviceSql, type ServiceDatabase, type ServiceSql } from './service-sql.js';
export { migrateServiceSchema, ServiceMigrationError, type ServiceMigration, type ServiceSchema } from './service-migrations.js';
