import { render } from 'preact';
import { useState } from 'preact/hooks';
import { getToken, setToken } from './api.js';
import { html } from './html.js';
import { SagasPage } from './sagas.js';
import { DeadLettersPage } from './dead-letters.js';
import { OutboxPage, ViewsPage } from './outbox-and-views.js';
import { TimersAndLocksPage } from './timers-and-locks.js';

const TABS = [
  ['sagas', 'Sagas'],
  ['stuck', 'STUCK queue'],
  ['dlq', 'Dead letters'],
  ['outbox', 'Outbox'],
  ['views', 'Views'],
  ['timers', 'Timers & locks'],
];

function Login({ onLogin, message }) {
  const [value, setValue] = useState('');
  const submit = (e) => {
    e.preventDefault();
    if (value.trim()) onLogin(value.trim());
  };
  return html`<section class="login">
    <h2>Sign in</h2>
    <p class="muted">The operator token: <span class="mono">CONCORD_ADMIN_TOKEN</span>, or the one in the console address the server printed.</p>
    ${message && html`<p class="error" role="alert">${message}</p>`}
    <form onSubmit=${submit}>
      <input type="password" name="token" aria-label="Admin token" placeholder="Admin token" autocomplete="current-password" value=${value} onInput=${(e) => setValue(e.target.value)} />
      <button class="btn primary" type="submit">Sign in</button>
    </form>
  </section>`;
}

function App() {
  const [token, setTokenState] = useState(getToken());
  const [message, setMessage] = useState('');
  const [tab, setTab] = useState('sagas');
  const [selected, setSelected] = useState(null);
  const signOut = (why) => {
    setToken(null);
    setTokenState(null);
    setMessage(why || '');
  };
  if (!token) {
    return html`<header><h1>Concord operator console</h1></header>
      <${Login} message=${message} onLogin=${(t) => { setToken(t); setTokenState(t); setMessage(''); }} />`;
  }
  const open = (sagaId) => {
    setSelected(sagaId);
    if (tab !== 'sagas' && tab !== 'stuck') setTab('sagas');
  };
  const props = { onUnauthorized: signOut, open, selected };
  return html`<header>
      <h1>Concord operator console</h1>
      <nav>${TABS.map(([id, label]) => html`<button class=${tab === id ? 'active' : ''} onClick=${() => setTab(id)}>${label}</button>`)}</nav>
      <span style="flex:1"></span>
      <button class="btn" onClick=${() => signOut('Signed out.')}>Sign out</button>
    </header>
    <main>
      ${tab === 'sagas' && html`<${SagasPage} key="all" ...${props} />`}
      ${tab === 'stuck' && html`<${SagasPage} key="stuck" stuckOnly=${true} ...${props} />`}
      ${tab === 'dlq' && html`<${DeadLettersPage} ...${props} />`}
      ${tab === 'outbox' && html`<${OutboxPage} ...${props} />`}
      ${tab === 'views' && html`<${ViewsPage} ...${props} />`}
      ${tab === 'timers' && html`<${TimersAndLocksPage} ...${props} />`}
    </main>`;
}

// The placeholder goes first: render() would keep it beside the app otherwise.
const root = document.getElementById('app');
root.replaceChildren();
render(html`<${App} />`, root);
