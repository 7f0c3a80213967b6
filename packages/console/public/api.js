// The operator API with the bearer token. The token comes from the address the server printed
// (#token=…, removed from the address bar at once) or the login form, and lives in
// sessionStorage: it is gone when the tab is closed.
const KEY = 'concord-admin-token';

const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromUrl) {
  sessionStorage.setItem(KEY, fromUrl);
  history.replaceState(null, '', location.pathname + location.search);
}

export const getToken = () => sessionStorage.getItem(KEY);
export const setToken = (token) => (token ? sessionStorage.setItem(KEY, token) : sessionStorage.removeItem(KEY));

/** Thrown for 401: the app shows the login form again. */
export class Unauthorized extends Error {}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) throw new Unauthorized('The token was refused: sign in again.');
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ? `${data.error.code}: ${data.error.message}` : `${res.status} ${res.statusText}`);
  return data;
}

export const when = (ms) => (ms ? new Date(ms).toLocaleString(undefined, { hour12: false }) : '—');
export const age = (ms) => (ms == null ? '—' : ms < 1000 ? `${ms} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`);
