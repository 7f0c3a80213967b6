import { useState } from 'preact/hooks';
import { html } from './html.js';
import { useApi } from './use-api.js';
import { when } from './api.js';
import { SagaTimeline } from './saga-timeline.js';

const STATUSES = ['RUNNING', 'COMPENSATING', 'STUCK', 'COMPLETED', 'COMPENSATED', 'ABORTED'];
const PAGE = 20;

/** The saga list (filters, search by id, pages) beside the selected saga's timeline. */
export function SagasPage({ stuckOnly, onUnauthorized, open, selected }) {
  const [status, setStatus] = useState(stuckOnly ? 'STUCK' : '');
  const [type, setType] = useState('');
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState('');
  const [reloadKey, setReloadKey] = useState(0);
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (status) query.set('status', status);
  if (type) query.set('type', type);
  const list = useApi(`/admin/sagas?${query}`, onUnauthorized, reloadKey);
  const sagas = list.data?.sagas ?? [];
  const counts = list.data?.counts ?? {};
  const refresh = () => setReloadKey((k) => k + 1);

  return html`<div class="split">
    <section>
      <h2>${stuckOnly ? html`STUCK queue <span class="muted">— ${counts.STUCK ?? 0} saga(s) wait for a person</span>` : 'Sagas'}</h2>
      <div class="toolbar">
        ${!stuckOnly &&
        html`<label>Status <select name="status" value=${status} onChange=${(e) => { setStatus(e.target.value); setOffset(0); }}>
            <option value="">all</option>${STATUSES.map((s) => html`<option value=${s}>${s} (${counts[s] ?? 0})</option>`)}
          </select></label>
          <label>Type <input name="type" size="12" placeholder="any" value=${type} onChange=${(e) => { setType(e.target.value.trim()); setOffset(0); }} /></label>`}
        <form onSubmit=${(e) => { e.preventDefault(); if (search.trim()) open(search.trim()); }}>
          <input name="search" placeholder="saga id, e.g. create-order-7" aria-label="Search saga by id" value=${search} onInput=${(e) => setSearch(e.target.value)} />
          <button class="btn" type="submit">Open</button>
        </form>
        <button class="btn" onClick=${refresh}>Refresh</button>
        ${list.loading && html`<span class="spinner"></span>`}
      </div>
      ${list.error && html`<p class="error">${list.error}</p>`}
      <table data-testid="saga-list">
        <thead><tr><th>Saga</th><th>Type</th><th>Status</th><th>Attempts</th><th>Last error</th><th>Updated</th></tr></thead>
        <tbody>
          ${sagas.map(
            (s) => html`<tr class=${`clickable ${selected === s.sagaId ? 'selected' : ''}`} onClick=${() => open(s.sagaId)} data-saga=${s.sagaId}>
              <td class="mono">${s.sagaId}</td><td>${s.sagaType}</td><td><span class=${`status ${s.status}`}>${s.status}</span></td>
              <td>${s.stepAttempts || ''}</td><td class="error">${s.lastError ?? ''}</td><td class="muted">${when(s.updatedAt)}</td>
            </tr>`,
          )}
          ${!list.loading && sagas.length === 0 && html`<tr><td colspan="6" class="muted">${stuckOnly ? 'Nothing is STUCK.' : 'No sagas match.'}</td></tr>`}
        </tbody>
      </table>
      <div class="toolbar" style="margin-top:.6rem">
        <button class="btn" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>← Newer</button>
        <span class="muted">${sagas.length ? `${offset + 1}–${offset + sagas.length}` : ''}</span>
        <button class="btn" disabled=${sagas.length < PAGE} onClick=${() => setOffset(offset + PAGE)}>Older →</button>
      </div>
    </section>
    <section>
      ${selected
        ? html`<${SagaTimeline} key=${selected} sagaId=${selected} onUnauthorized=${onUnauthorized} onChanged=${refresh} />`
        : html`<p class="muted">Select a saga to see its timeline.</p>`}
    </section>
  </div>`;
}
