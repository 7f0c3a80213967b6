import { InvalidArgumentError } from '@concord/core';

export interface ShippingConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** `postgres://…` or `mysql://…`: the Shipping service's database; default SQLite under dataDir. */
  readonly databaseUrl: string | undefined;
  /** Another carrier to use; default: the simulated one, started on port + 1. */
  readonly carrierUrl: string | undefined;
  /** 0..1: the share of answers the simulated carrier loses. */
  readonly carrierLoss: number;
  /** How long a call to the carrier may take before it counts as failed. */
  readonly carrierTimeoutMs: number;
  /** Attempts before an intent is parked for a person. */
  readonly maxAttempts: number;
  /** A pending intent older than this is stale (consolidation lists it). */
  readonly staleAfterMs: number;
  /** How often consolidation runs and repairs what it can; 0 turns the job off. */
  readonly consolidationIntervalMs: number;
  readonly idempotencyTtlMs: number;
}

function number(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  check: (n: number) => boolean,
  what: string,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!check(value)) throw new InvalidArgumentError(`${name} must be ${what}, got "${raw}"`);
  return value;
}
const nonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0;

/** The demo's settings (PORT, HOST, CONCORD_DATA_DIR, CONCORD_DATABASE_URL) plus the carrier's. */
export function readConfig(env: Record<string, string | undefined> = process.env): ShippingConfig {
  return {
    port: number(
      env,
      'PORT',
      8080,
      (n) => Number.isInteger(n) && n >= 0 && n < 65_535,
      'a port number below 65535',
    ),
    host: env.HOST || '127.0.0.1',
    dataDir: env.CONCORD_DATA_DIR ?? './data',
    databaseUrl: env.CONCORD_DATABASE_URL || undefined,
    carrierUrl: env.CONCORD_CARRIER_URL || undefined,
    carrierLoss: number(env, 'CONCORD_CARRIER_LOSS', 0, (n) => n >= 0 && n <= 1, 'between 0 and 1'),
    carrierTimeoutMs: number(
      env,
      'CONCORD_CARRIER_TIMEOUT_MS',
      5_000,
      (n) => Number.isInteger(n) && n > 0,
      'a positive integer',
    ),
    maxAttempts: number(
      env,
      'CONCORD_REMOTE_CALL_MAX_ATTEMPTS',
      20,
      (n) => Number.isInteger(n) && n > 0,
      'a positive integer',
    ),
    staleAfterMs: number(env, 'CONCORD_STALE_AFTER_MS', 60_000, nonNegativeInt, 'a non-negative integer'),
    consolidationIntervalMs: number(
      env,
      'CONCORD_CONSOLIDATION_INTERVAL_MS',
      300_000,
      nonNegativeInt,
      'a non-negative integer',
    ),
    idempotencyTtlMs: number(
      env,
      'CONCORD_IDEMPOTENCY_TTL_MS',
      24 * 3_600_000,
      (n) => Number.isInteger(n) && n > 0,
      'a positive integer',
    ),
  };
}
