export { PrometheusMetrics, type PrometheusMetricsOptions, type WatchedService } from './prometheus-metrics.js';
export { Readiness, type ReadinessCheck, type ReadinessProbe, type ReadinessReport } from './readiness.js';
export { OpenTelemetryTracing } from './open-telemetry-tracing.js';
export { startTracing, startTracingFromEnv, type RunningTracing } from './tracing-setup.js';
