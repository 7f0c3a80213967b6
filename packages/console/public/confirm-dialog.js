import { useState } from 'preact/hooks';
import { html } from './html.js';

/**
 * Asks before an action that changes state: what will happen, an optional or required note,
 * optional extra fields, and a confirm button that stays disabled until the note is given.
 */
export function ConfirmDialog({ title, explain, noteLabel, noteRequired, confirmLabel, danger, children, onConfirm, onCancel }) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const ready = !noteRequired || note.trim().length > 0;
  const confirm = async (e) => {
    e.preventDefault();
    setBusy(true);
    const failed = await onConfirm(note.trim());
    setBusy(false);
    if (failed) setError(failed);
  };
  return html`<dialog open aria-label=${title}>
    <form onSubmit=${confirm}>
      <h2>${title}</h2>
      <p class="muted">${explain}</p>
      ${children}
      ${noteLabel &&
      html`<label>${noteLabel}${noteRequired ? ' (required)' : ' (optional)'}
        <textarea name="note" onInput=${(e) => setNote(e.target.value)} value=${note}></textarea>
      </label>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="toolbar">
        <button type="submit" class=${`btn ${danger ? 'danger' : 'primary'}`} disabled=${!ready || busy}>${busy ? html`<span class="spinner"></span> ` : ''}${confirmLabel}</button>
        <button type="button" class="btn" onClick=${onCancel} disabled=${busy}>Cancel</button>
      </div>
    </form>
  </dialog>`;
}
