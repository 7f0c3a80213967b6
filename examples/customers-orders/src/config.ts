import { InvalidArgumentError } from '@concord/core';

export type SagaMode = 'orchestration' | 'choreography';

export interface DemoConfig {
  readonly port: number;
  readonly dataDir: string;
  readonly sagaMode: SagaMode;
  readonly databaseUrl: string | undefined;
  readonly brokerUrl: string | undefined;
  readonly brokerPrefix?: string | undefined;
}

/** Reads the demo's settings from the environment, refusing bad values by name. */
export function readConfig(env: Record<string, string | undefined> = process.env): DemoConfig {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError(`PORT must be a port number, got "${env.PORT}"`);
  const sagaMode = (env.CONCORD_SAGA_MODE ?? 'orchestration') as SagaMode;
  if (sagaMode !== 'orchestration' && sagaMode !== 'choreography') {
    throw new InvalidArgumentError(`CONCORD_SAGA_MODE must be orchestration or choreography, got "${env.CONCORD_SAGA_MODE}"`);
  }
  return {
    port,
    dataDir: env.CONCORD_DATA_DIR ?? './data',
    sagaMode,
    databaseUrl: env.CONCORD_DATABASE_URL || undefined,
    brokerUrl: env.CONCORD_BROKER_URL || undefined,
    brokerPrefix: env.CONCORD_BROKER_PREFIX || undefined,
  };
}
