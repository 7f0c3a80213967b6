import { InvalidArgumentError } from '@concord/core';
import { AdminToken, type EventStreamLimits, type HttpLimits } from '@concord/http';

export type SagaMode = 'orchestration' | 'choreography';

export interface DemoConfig {
  readonly port: number;
  /** The interface to listen on; loopback unless HOST says otherwise. */
  readonly host?: string | undefined;
  /** Guards /admin/*; from CONCORD_ADMIN_TOKEN, or made at start (and printed once) when unset. */
  readonly adminToken?: AdminToken | undefined;
  /** Body, header and timeout bounds of the HTTP server (defaults in @concord/http). */
  readonly httpLimits?: HttpLimits | undefined;
  /** Bounds on /orders/:id/events streams: CONCORD_SSE_MAX_STREAMS, CONCORD_SSE_MAX_STREAMS_PER_CLIENT. */
  readonly streamLimits?: EventStreamLimits | undefined;
  /** Re-read watched orders this often, as in the distributed mode (tests exercise that path in one process). */
  readonly orderWatchPollMs?: number | undefined;
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
  const positive = (name: string): number | undefined => {
    if (env[name] === undefined || env[name] === '') return undefined;
    const value = Number(env[name]);
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${env[name]}"`);
    return value;
  };
  const maxStreams = positive('CONCORD_SSE_MAX_STREAMS');
  const maxStreamsPerClient = positive('CONCORD_SSE_MAX_STREAMS_PER_CLIENT');
  return {
    port,
    streamLimits: { ...(maxStreams ? { maxStreams } : {}), ...(maxStreamsPerClient ? { maxStreamsPerClient } : {}) },
    host: env.HOST || '127.0.0.1',
    adminToken: AdminToken.fromEnv(env),
    dataDir: env.CONCORD_DATA_DIR ?? './data',
    sagaMode,
    databaseUrl: env.CONCORD_DATABASE_URL || undefined,
    brokerUrl: env.CONCORD_BROKER_URL || undefined,
    brokerPrefix: env.CONCORD_BROKER_PREFIX || undefined,
  };
}
