import { pino } from 'pino';
import type { Logger } from './ports/logger.js';

const noop = () => {};

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

let shared: Logger | undefined;

/**
 * Concord's default logger: pino, JSON lines, level from `CONCORD_LOG_LEVEL` (default `info`).
 * Every log line about a message carries `messageId` and `correlationId`.
 */
export function defaultLogger(): Logger {
  if (!shared) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
    shared = pino({ name: 'concord', level: env.CONCORD_LOG_LEVEL ?? 'info' });
  }
  return shared;
}

export function createLogger(options: { name?: string; level?: string } = {}): Logger {
  return pino({ name: options.name ?? 'concord', level: options.level ?? 'info' });
}
