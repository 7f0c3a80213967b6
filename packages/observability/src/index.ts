export { PrometheusMetrics, type PrometheusMetricsOptions, type WatchedService } from './prometheus-metrics.js';
export { Readiness, type ReadinessCheck, type ReadinessProbe, type ReadinessReport } from './readiness.js';
