import type { PrometheusMetrics, Readiness } from '@concord/observability';
import type { Router } from '@concord/http';

export interface OpsServices {
  readonly metrics: PrometheusMetrics;
  readonly readiness: Readiness;
}

/**
 * What machines watching the demo call: GET /metrics (Prometheus text format) and GET /ready
 * (503 with the failing checks while the store, broker or relays cannot work). GET /health
 * stays the plain liveness answer. Neither reveals business data, so neither needs the token;
 * the server listens on loopback unless HOST says otherwise.
 */
export function opsRoutes(router: Router, ops: OpsServices): void {
  router
    .on('GET', '/metrics', async (ctx) => {
      const text = await ops.metrics.render();
      ctx.res.writeHead(200, { 'content-type': ops.metrics.contentType, 'content-length': Buffer.byteLength(text) });
      ctx.res.end(text);
      return undefined;
    })
    .on('GET', '/ready', async (ctx) => {
      const report = await ops.readiness.check();
      const text = JSON.stringify({ status: report.ready ? 'ready' : 'not ready', checks: report.checks });
      ctx.res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      ctx.res.end(text);
      return undefined;
    });
}
