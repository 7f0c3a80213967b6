import { useState } from 'preact/hooks';
import { html } from './html.js';
import { useApi, runAction } from './use-api.js';
import { when } from './api.js';
import { ConfirmDialog } from './confirm-dialog.js';

/** Dead letters of every service: payload, error and a replay to the consumer that failed them. */
export function DeadLettersPage({ onUnauthorized, open }) {
  const [reloadKey, setReloadKey] = useState(0);
  const [expanded, setExpanded] = useState(null);
  const [replaying, setReplaying] = useState(null);
  const [done, setDone] = useState(null);
  const list = useApi('/admin/dead-letters', onUnauthorized, reloadKey);
  const letters = Object.entries(list.data?.deadLetters ?? {})
    .flatMap(([service, ls]) => ls.map((l) => ({ ...l, service, ref: `${service}:${l.id}` })))
    .sort((a, b) => b.failedAt - a.failedAt);
  const replay = async () => {
    const l = replaying;
    const failed = await runAction(onUnauthorized, 'POST', `/admin/dead-letters/${encodeURIComponent(l.service)}/${l.id}/replay`, {});
    if (failed) return failed;
    setReplaying(null);
    setDone(`Dead letter ${l.ref} was sent again to ${l.consumer}.`);
    setReloadKey((k) => k + 1);
    return null;
  };
  return html`<section>
    <h2>Dead letters <span class="muted">— messages that failed every attempt</span></h2>
    <div class="toolbar"><button class="btn" onClick=${() => setReloadKey((k) => k + 1)}>Refresh</button>${list.loading && html`<span class="spinner"></span>`}
      ${done && html`<span class="ok" role="status">${done}</span>`}</div>
    ${list.error && html`<p class="error">${list.error}</p>`}
    <table data-testid="dead-letters">
      <thead><tr><th>Letter</th><th>Consumer</th><th>Message</th><th>Attempts</th><th>Failed</th><th>Error</th><th></th></tr></thead>
      <tbody>
        ${letters.map((l) => {
          const sagaId = l.message.headers['concord-saga-id'];
          return html`<tr class="clickable" data-letter=${l.ref} onClick=${() => setExpanded(expanded === l.ref ? null : l.ref)}>
              <td class="mono">${l.ref}</td><td>${l.consumer}</td><td class="mono">${l.message.type}</td><td>${l.attempts}</td>
              <td class="muted">${when(l.failedAt)}</td><td class="error">${l.error}</td>
              <td><button class="btn primary" onClick=${(e) => { e.stopPropagation(); setReplaying(l); }}>Replay…</button></td>
            </tr>
            ${expanded === l.ref &&
            html`<tr><td colspan="7">
              ${sagaId && html`<p>Saga <a href="#" onClick=${(e) => { e.preventDefault(); open(sagaId); }} class="mono">${sagaId}</a></p>`}
              <b>Payload</b><pre>${JSON.stringify(l.message.payload, null, 2)}</pre>
              <b>Headers</b><pre>${JSON.stringify(l.message.headers, null, 2)}</pre>
              ${l.stack && html`<b>Stack</b><pre>${l.stack}</pre>`}
            </td></tr>`}`;
        })}
        ${!list.loading && letters.length === 0 && html`<tr><td colspan="7" class="muted">No dead letters.</td></tr>`}
      </tbody>
    </table>
    ${replaying &&
    html`<${ConfirmDialog} title=${`Replay ${replaying.ref}`} explain=${`Sends ${replaying.message.type} again, with a new id, to ${replaying.consumer} only. Fix what made it fail first.`}
      confirmLabel="Replay message" onCancel=${() => setReplaying(null)} onConfirm=${replay} />`}
  </section>`;
}
