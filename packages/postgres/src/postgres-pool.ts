/**
 * The few `pg` methods Concord uses, so any pool that has them fits (a `pg.Pool`, a wrapped
 * or instrumented one). `pg` stays a peer dependency: bring your own version.
 */
export interface PostgresQueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

export interface PostgresNotification {
  readonly channel: string;
  readonly payload?: string | undefined;
  /** Backend PID of the session that sent it. */
  readonly processId?: number;
}

export interface PostgresPoolClient {
  query<R = Record<string, unknown>>(config: { text: string; name?: string; values?: unknown[] }): Promise<PostgresQueryResult<R>>;
  /** Gives the client back; with an error (or `true`) the pool destroys it instead. */
  release(destroy?: Error | boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'notification', listener: (message: PostgresNotification) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'notification', listener: (message: PostgresNotification) => void): unknown;
}

export interface PostgresPool<C extends PostgresPoolClient = PostgresPoolClient> {
  connect(): Promise<C>;
  end(): Promise<void>;
  /** Idle clients that lose their connection are reported here; Concord logs them. */
  on(event: 'error', listener: (error: Error) => void): unknown;
}
