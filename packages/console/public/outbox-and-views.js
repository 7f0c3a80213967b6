import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { api, age, Unauthorized } from './api.js';
import { useApi, runAction } from './use-api.js';

const COLORS = ['#1f5fbf', '#b00020', '#2e7d32', '#a15c00', '#6b3fa0'];
const WINDOW_MS = 5 * 60_000;
// Samples survive switching tabs (not reloads): the chart shows what this page has seen.
const samples = [];

function Chart({ series, valueOf, unit }) {
  const now = Date.now();
  const points = samples.filter((s) => now - s.at <= WINDOW_MS);
  // The window grows with what the page has seen, up to five minutes, so lines span the chart.
  const span = Math.min(WINDOW_MS, Math.max(10_000, now - (points[0]?.at ?? now)));
  const max = Math.max(1, ...points.flatMap((p) => series.map((name) => valueOf(p.outbox[name]) ?? 0)));
  const x = (at) => ((at - (now - span)) / span) * 600;
  const y = (v) => 150 - (v / max) * 140;
  return html`<svg class="chart" viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label=${`outbox ${unit} over time`}>
      ${series.map((name, i) => html`<polyline fill="none" stroke=${COLORS[i % COLORS.length]} stroke-width="2"
        points=${points.map((p) => `${x(p.at).toFixed(1)},${y(valueOf(p.outbox[name]) ?? 0).toFixed(1)}`).join(' ')} />`)}
    </svg>
    <div class="legend"><span class="muted">top: ${max} ${unit} · last ${Math.round(span / 1000)} s</span>${series.map((name, i) => html`<span style=${`color:${COLORS[i % COLORS.length]}`}>■ ${name}</span>`)}</div>`;
}

/** Each service's relay counter from /metrics (Prometheus text), when the service serves it. */
async function relayTotals() {
  const res = await fetch('/metrics').catch(() => undefined);
  if (!res?.ok) return {};
  const totals = {};
  for (const m of (await res.text()).matchAll(/^concord_relay_published_messages_total\{service="([^"]+)"\} (\S+)$/gm)) totals[m[1]] = Number(m[2]);
  return totals;
}

/** Outbox lag per service and relay throughput, sampled every 2 s while the page is open. */
export function OutboxPage({ onUnauthorized }) {
  const [, setTick] = useState(0);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stopped = false;
    const sample = async () => {
      try {
        const { outbox } = await api('GET', '/admin/outbox');
        const published = await relayTotals();
        const previous = samples.at(-1);
        // Relay throughput: the change of each service's published counter since the last sample.
        for (const [service, total] of Object.entries(published)) {
          const before = previous?.published?.[service];
          if (outbox[service] && before !== undefined) outbox[service] = { ...outbox[service], perSecond: (total - before) / ((Date.now() - previous.at) / 1000) };
        }
        samples.push({ at: Date.now(), outbox, published });
        while (samples.length > 600) samples.shift();
        setError(null);
      } catch (e) {
        if (e instanceof Unauthorized) return onUnauthorized(e.message);
        setError(e.message);
      }
      if (!stopped) setTick((t) => t + 1);
    };
    sample();
    const timer = setInterval(sample, 2000);
    return () => { stopped = true; clearInterval(timer); };
  }, []);
  const latest = samples.at(-1)?.outbox ?? {};
  const series = Object.keys(latest);
  return html`<section>
    <h2>Outbox <span class="muted">— messages committed but not yet handed to the broker</span></h2>
    ${error && html`<p class="error">${error}</p>`}
    <table data-testid="outbox"><thead><tr><th>Service</th><th>Unsent</th><th>Oldest unsent</th></tr></thead>
      <tbody>${series.map((name) => html`<tr><td>${name}</td><td>${latest[name].count}</td><td>${age(latest[name].oldestAgeMs)}</td></tr>`)}</tbody></table>
    <h2 style="margin-top:1rem">Unsent messages</h2>
    <${Chart} series=${series} valueOf=${(l) => l?.count} unit="messages" />
    <h2 style="margin-top:1rem">Relay throughput</h2>
    <${Chart} series=${series} valueOf=${(l) => Math.max(0, Math.round(l?.perSecond ?? 0))} unit="msg/s" />
    <h2 style="margin-top:1rem">Age of the oldest unsent message</h2>
    <${Chart} series=${series} valueOf=${(l) => (l?.oldestAgeMs ?? 0) / 1000} unit="s" />
    <p class="muted">Graphs over longer spans: <span class="mono">/metrics</span> (concord_outbox_*, concord_relay_*) and the Grafana dashboard in docs/.</p>
  </section>`;
}

/** CQRS views and a rebuild button with its progress. */
export function ViewsPage({ onUnauthorized }) {
  const views = useApi('/admin/views', onUnauthorized, 0);
  const [state, setState] = useState({});
  const rebuild = async (name) => {
    if (!confirm(`Rebuild ${name}? It is dropped and built again from its sources.`)) return;
    const started = Date.now();
    setState((s) => ({ ...s, [name]: { busy: true } }));
    const failed = await runAction(onUnauthorized, 'POST', `/admin/views/${encodeURIComponent(name)}/rebuild`, {});
    setState((s) => ({ ...s, [name]: failed ? { error: failed } : { tookMs: Date.now() - started } }));
  };
  return html`<section>
    <h2>Views</h2>
    ${views.error && html`<p class="error">${views.error}</p>`}
    <table><thead><tr><th>View</th><th></th><th></th></tr></thead><tbody>
      ${(views.data?.views ?? []).map((name) => {
        const s = state[name] ?? {};
        return html`<tr><td class="mono">${name}</td>
          <td><button class="btn" disabled=${s.busy} onClick=${() => rebuild(name)}>${s.busy ? html`<span class="spinner"></span> Rebuilding…` : 'Rebuild'}</button></td>
          <td>${s.error ? html`<span class="error">${s.error}</span>` : s.tookMs !== undefined && !s.busy ? html`<span class="ok">Rebuilt in ${s.tookMs} ms</span>` : ''}</td></tr>`;
      })}
    </tbody></table>
  </section>`;
}
