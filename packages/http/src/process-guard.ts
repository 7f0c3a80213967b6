import type { Logger } from '@concord/core';

export interface ProcessGuardOptions {
  readonly logger: Logger;
  /** Stops the process's work in order (servers, relays, consumers, connections). */
  readonly stop: () => Promise<void>;
  /** The bound on `stop`: after it the process exits anyway, with code 1. Default 15 s. */
  readonly timeoutMs?: number;
  /** For tests: what exiting means. Default `process.exit`. */
  readonly exit?: (code: number) => void;
  readonly target?: NodeJS.Process;
}

/**
 * A service process's last line: SIGTERM/SIGINT stop it cleanly (exit 0); an unhandled
 * rejection or an uncaught exception is logged with its stack, then the process stops the same
 * way and exits 1, rather than dying mid-write or running on in an unknown state. A second
 * signal, or `stop` overrunning its bound, exits at once. Returns a function that uninstalls it.
 */
export function guardProcess(options: ProcessGuardOptions): () => void {
  const { logger } = options;
  const target = options.target ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = options.timeoutMs ?? 15_000;
  let stopping = false;

  const shutdown = (code: number, reason: string) => {
    if (stopping) {
      logger.warn({ reason }, 'second stop request while stopping: exiting now');
      return exit(code || 1);
    }
    stopping = true;
    logger.info({ reason }, 'stopping');
    const bound = setTimeout(() => {
      logger.error({ reason, timeoutMs }, 'stop did not finish in time: exiting');
      exit(1);
    }, timeoutMs);
    bound.unref();
    options.stop().then(
      () => {
        clearTimeout(bound);
        exit(code);
      },
      (error: unknown) => {
        clearTimeout(bound);
        logger.error({ err: error }, 'stop failed');
        exit(1);
      },
    );
  };

  const onSignal = (signal: NodeJS.Signals) => shutdown(0, signal);
  const onRejection = (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection: stopping the process');
    shutdown(1, 'unhandledRejection');
  };
  const onException = (error: Error) => {
    logger.error({ err: error }, 'uncaught exception: stopping the process');
    shutdown(1, 'uncaughtException');
  };
  target.on('SIGTERM', onSignal);
  target.on('SIGINT', onSignal);
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return () => {
    target.off('SIGTERM', onSignal);
    target.off('SIGINT', onSignal);
    target.off('unhandledRejection', onRejection);
    target.off('uncaughtException', onException);
  };
}
