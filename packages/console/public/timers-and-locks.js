import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { api, when, Unauthorized } from './api.js';

/** The list in `{ timers: [...] }`, `{ items: [...] }`, a bare array, or per-service arrays. */
function listIn(body, kind) {
  if (Array.isArray(body)) return body;
  const found = body[kind] ?? body.items ?? Object.values(body).find(Array.isArray);
  if (Array.isArray(found)) return found;
  return Object.entries(body).flatMap(([service, v]) => (Array.isArray(v) ? v.map((x) => ({ service, ...x })) : []));
}

function Listing({ kind, onUnauthorized }) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    api('GET', `/admin/${kind}`).then(
      (body) => setState({ items: listIn(body, kind) }),
      (error) => {
        if (error instanceof Unauthorized) return onUnauthorized(error.message);
        // Services without durable timers or semantic locks do not serve the route.
        setState(/^NOT_FOUND|^404/.test(error.message) ? { absent: true } : { error: error.message });
      },
    );
  }, [kind]);
  const title = kind === 'timers' ? 'Durable timers' : 'Semantic locks';
  if (state.loading) return html`<section><h2>${title}</h2><span class="spinner"></span></section>`;
  if (state.absent) return html`<section><h2>${title}</h2><p class="muted">This service has no ${kind}.</p></section>`;
  if (state.error) return html`<section><h2>${title}</h2><p class="error">${state.error}</p></section>`;
  const keys = [...new Set(state.items.flatMap((i) => Object.keys(i)))].slice(0, 8);
  const cell = (k, v) => (typeof v === 'number' && /At$|^at$|expires|due/i.test(k) && v > 1e12 ? when(v) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? ''));
  return html`<section><h2>${title}</h2>
    ${state.items.length === 0
      ? html`<p class="muted">None.</p>`
      : html`<table><thead><tr>${keys.map((k) => html`<th>${k}</th>`)}</tr></thead>
          <tbody>${state.items.map((i) => html`<tr>${keys.map((k) => html`<td class="mono">${cell(k, i[k])}</td>`)}</tr>`)}</tbody></table>`}
  </section>`;
}

/** Timers not yet fired and locks held, where the service has them. */
export function TimersAndLocksPage({ onUnauthorized }) {
  return html`<${Listing} kind="timers" onUnauthorized=${onUnauthorized} /><${Listing} kind="locks" onUnauthorized=${onUnauthorized} />`;
}
