import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryTracing } from './open-telemetry-tracing.js';

export interface RunningTracing {
  readonly tracing: OpenTelemetryTracing;
  /** Flushes buffered spans and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing with `processors` (tests pass a SimpleSpanProcessor over an InMemorySpanExporter):
 * a tracer provider and the AsyncLocalStorage context manager, so the active span follows
 * `await`s. The context manager is process-wide by OpenTelemetry's design.
 */
export function startTracing(serviceName: string, processors: readonly SpanProcessor[]): RunningTracing {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), spanProcessors: [...processors] });
  trace.setGlobalTracerProvider(provider);
  return {
    tracing: new OpenTelemetryTracing(provider),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/**
 * Tracing exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, with the exporter's standard OTEL_* settings;
 * undefined otherwise, and then nothing is traced and nothing is paid.
 */
export function startTracingFromEnv(serviceName: string, env: Readonly<Record<string, string | undefined>> = process.env): RunningTracing | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  return startTracing(env.OTEL_SERVICE_NAME ?? serviceName, [new BatchSpanProcessor(new OTLPTraceExporter())]);
}
