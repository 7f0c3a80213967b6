import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, Unauthorized } from './api.js';

/** Loads `path` (again when `reloadKey` changes); a 401 signs the user out. */
export function useApi(path, onUnauthorized, reloadKey) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const load = useCallback(async () => {
    if (!path) return;
    setState((s) => ({ ...s, loading: true }));
    try {
      setState({ data: await api('GET', path), error: null, loading: false });
    } catch (error) {
      if (error instanceof Unauthorized) onUnauthorized(error.message);
      else setState({ data: null, error: error.message, loading: false });
    }
  }, [path]);
  useEffect(() => {
    load();
  }, [load, reloadKey]);
  return { ...state, reload: load };
}

/** Runs an admin action; returns an error message or null. */
export async function runAction(onUnauthorized, method, path, body) {
  try {
    await api(method, path, body);
    return null;
  } catch (error) {
    if (error instanceof Unauthorized) onUnauthorized(error.message);
    return error.message;
  }
}
