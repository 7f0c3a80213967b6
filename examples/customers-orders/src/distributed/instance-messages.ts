/**
 * What a service process tells its launcher over the IPC channel. The launcher learns each
 * instance's address from `listening` (with PORT=0 the system picks it), and stops everything
 * on `fatal` instead of restarting a process that would fail the same way again.
 */
export type InstanceMessage =
  | { readonly type: 'concord:listening'; readonly port: number }
  | { readonly type: 'concord:fatal'; readonly code: string; readonly message: string };

export function isInstanceMessage(value: unknown): value is InstanceMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'concord:listening' || type === 'concord:fatal';
}

/** Sends to the launcher when there is one (a process started by hand has no IPC channel). */
export function tellLauncher(message: InstanceMessage): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(message, undefined, {}, () => resolve()) : resolve()));
}
