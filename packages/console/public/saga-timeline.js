import { useState } from 'preact/hooks';
import { html } from './html.js';
import { useApi, runAction } from './use-api.js';
import { when } from './api.js';
import { ConfirmDialog } from './confirm-dialog.js';

const FINAL = ['COMPLETED', 'COMPENSATED', 'ABORTED'];

/** One line of the timeline: what happened in words, and how it reads at a glance. */
function describe(e) {
  const d = e.detail ?? {};
  const step = e.step ? html` <span class="mono">${e.step}</span>` : '';
  switch (e.event) {
    case 'STARTED': return { text: 'Saga started' };
    case 'COMMAND_SENT': return { text: html`Command <span class="mono">${d.command}</span> sent for${step}${d.attempt > 1 ? ` (attempt ${d.attempt})` : ''}${d.action === 'compensate' ? ' — compensation' : ''}` };
    case 'REPLY': return { text: html`Reply <b>${d.reply}</b> for${step}` };
    case 'STEP_DONE': return { text: html`Step${step} done${d.manual ? ' by hand' : ''}`, kind: 'good' };
    case 'COMPENSATION_DONE': return { text: html`Step${step} compensated${d.manual ? ' by hand' : ''}`, kind: 'good' };
    case 'STEP_FAILED': return { text: html`Step${step} failed: <b>${d.reason}</b>`, kind: 'bad', extra: d.error };
    case 'RETRY_SCHEDULED': return { text: html`Attempt ${d.attempts} of${step} failed; retry scheduled`, kind: 'bad', extra: d.error };
    case 'TIMEOUT': return { text: html`No reply for${step} in time`, kind: 'bad' };
    case 'STUCK': return { text: html`STUCK on${step} after ${d.attempts} attempts — a person must act`, kind: 'bad', extra: d.error };
    case 'MANUAL_RETRY': return { text: html`<b>${d.actor ?? 'someone'}</b> retried${step}`, kind: 'person', note: d.note };
    case 'MANUAL_RESOLVE': return { text: html`<b>${d.actor ?? 'someone'}</b> marked${step} <b>${d.as}</b>`, kind: 'person', note: d.note };
    case 'ABORTED': return { text: html`<b>${d.actor ?? 'someone'}</b> aborted the saga`, kind: 'person', note: d.note };
    case 'COMPLETED': return { text: 'Saga completed', kind: 'good' };
    case 'COMPENSATED': return { text: html`Saga compensated (${d.reason ?? 'failed'})`, kind: 'good' };
    case 'DEAD_LETTER': return { text: html`Message <span class="mono">${d.type}</span> parked as dead letter <span class="mono">${d.ref}</span> by ${d.consumer} after ${d.attempts} attempts`, kind: 'bad', extra: d.error };
    case 'DEAD_LETTER_REPLAYED': return { text: html`Dead letter <span class="mono">${d.ref}</span> replayed`, kind: 'person' };
    default: return { text: e.event };
  }
}

/** Saga history and the saga's dead letters, in time order. */
function entries(saga, letters) {
  const out = saga.history.map((h) => ({ ...h, key: `h${h.id}` }));
  for (const l of letters) {
    const detail = { ref: l.ref, type: l.message.type, consumer: l.consumer, attempts: l.attempts, error: l.error };
    out.push({ key: `d${l.ref}`, at: l.failedAt, event: 'DEAD_LETTER', step: l.message.headers['concord-saga-step'] ?? null, detail });
    if (l.replayedAt) out.push({ key: `r${l.ref}`, at: l.replayedAt, event: 'DEAD_LETTER_REPLAYED', step: null, detail });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The step a STUCK saga waits on: the last STUCK entry names it. */
const stuckStep = (saga) => [...saga.history].reverse().find((h) => h.event === 'STUCK')?.step ?? null;

export function SagaTimeline({ sagaId, onUnauthorized, onChanged }) {
  const [reloadKey, setReloadKey] = useState(0);
  const [dialog, setDialog] = useState(null);
  const [as, setAs] = useState(null);
  const id = encodeURIComponent(sagaId);
  const saga = useApi(`/admin/sagas/${id}`, onUnauthorized, reloadKey);
  const letters = useApi(`/admin/sagas/${id}/dead-letters`, onUnauthorized, reloadKey);
  if (saga.error) return html`<p class="error">${saga.error}</p>`;
  if (!saga.data) return html`<span class="spinner"></span>`;
  const s = saga.data;
  const stuck = s.status === 'STUCK';
  const step = stuckStep(s);
  const outcome = as ?? (s.direction === 'forward' ? 'done' : 'compensated');
  const act = (kind, body) => async (note) => {
    const failed = await runAction(onUnauthorized, 'POST', `/admin/sagas/${id}/${kind}`, body(note));
    if (failed) return failed;
    setDialog(null);
    setReloadKey((k) => k + 1);
    onChanged();
    return null;
  };
  const notApplicable = 'Only a STUCK saga can be retried or resolved by hand';

  return html`<div data-testid="timeline">
    <h2><span class="mono">${s.sagaId}</span> <span class=${`status ${s.status}`}>${s.status}</span></h2>
    <p class="muted">${s.sagaType} · ${s.direction === 'forward' ? 'going forward' : 'compensating'} · version ${s.version}${s.failureReason ? ` · ${s.failureReason}` : ''}</p>
    <div class="toolbar">
      <button class="btn" disabled=${!stuck} title=${stuck ? 'Run the stuck step again' : notApplicable} onClick=${() => setDialog('retry')}>Retry</button>
      <button class="btn primary" disabled=${!stuck} title=${stuck ? `Mark ${step} done or compensated` : notApplicable} onClick=${() => setDialog('resolve')}>Resolve…</button>
      <button class="btn danger" disabled=${FINAL.includes(s.status)} title=${FINAL.includes(s.status) ? 'The saga has already ended' : 'Stop the saga for good'} onClick=${() => setDialog('abort')}>Abort…</button>
    </div>
    <ol class="timeline">
      ${entries(s, letters.data?.deadLetters ?? []).map((e) => {
        const d = describe(e);
        return html`<li class=${d.kind ?? ''} data-event=${e.event}>
          <span class="when">${when(e.at)}</span><span class="what">${d.text}</span>
          ${d.extra && html`<div class="error mono">${d.extra}</div>`}
          ${d.note && html`<div class="note">“${d.note}”</div>`}
        </li>`;
      })}
    </ol>
    <details><summary class="muted">Saga data</summary><pre>${JSON.stringify(s.data, null, 2)}</pre></details>
    ${dialog === 'retry' &&
    html`<${ConfirmDialog} title="Retry the stuck step" explain=${`Runs ${step} again from a fresh attempt count.`} noteLabel="Note" confirmLabel="Retry step"
      onCancel=${() => setDialog(null)} onConfirm=${act('retry', (note) => (note ? { note } : {}))} />`}
    ${dialog === 'resolve' &&
    html`<${ConfirmDialog} title=${`Resolve step ${step}`} explain="Records that a person finished this step outside the system; the saga then goes on from there."
      noteLabel="What was done" noteRequired=${true} confirmLabel="Resolve step" onCancel=${() => setDialog(null)}
      onConfirm=${act('resolve', (note) => ({ step, as: outcome, note }))}>
      <label>Mark the step <select name="as" value=${outcome} onChange=${(e) => setAs(e.target.value)}>
        <option value="done">done</option><option value="compensated">compensated</option></select></label>
    </${ConfirmDialog}>`}
    ${dialog === 'abort' &&
    html`<${ConfirmDialog} title="Abort the saga" explain="Stops the saga for good. Nothing is compensated: what it did stays as it is." noteLabel="Why"
      noteRequired=${true} confirmLabel="Abort saga" danger=${true} onCancel=${() => setDialog(null)} onConfirm=${act('abort', (note) => ({ note }))} />`}
  </div>`;
}
