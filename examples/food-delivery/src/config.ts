import { InvalidArgumentError } from '@concord/core';
import { AdminToken } from '@concord/http';

export interface FoodDeliveryConfig {
  readonly port: number;
  readonly host: string;
  readonly adminToken?: AdminToken | undefined;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly brokerUrl: string | undefined;
  readonly brokerPrefix?: string | undefined;
  /** How long a packet or agent stays reserved without being assigned. */
  readonly reservationTtlMs: number;
}

/** The demo's settings (PORT, HOST, CONCORD_DATA_DIR, CONCORD_DATABASE_URL, CONCORD_BROKER_URL...) plus CONCORD_RESERVATION_TTL_MS. */
export function readConfig(env: Record<string, string | undefined> = process.env): FoodDeliveryConfig {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError(`PORT must be a port number, got "${env.PORT}"`);
  const ttl = Number(env.CONCORD_RESERVATION_TTL_MS ?? 30_000);
  if (!Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new InvalidArgumentError(`CONCORD_RESERVATION_TTL_MS must be a positive number of milliseconds, got "${env.CONCORD_RESERVATION_TTL_MS}"`);
  }
  return {
    port,
    host: env.HOST || '127.0.0.1',
    adminToken: AdminToken.fromEnv(env),
    dataDir: env.CONCORD_DATA_DIR ?? './data',
    databaseUrl: env.CONCORD_DATABASE_URL || undefined,
    brokerUrl: env.CONCORD_BROKER_URL || undefined,
    brokerPrefix: env.CONCORD_BROKER_PREFIX || undefined,
    reservationTtlMs: ttl,
  };
}
