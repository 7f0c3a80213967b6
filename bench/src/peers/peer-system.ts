/** One system under comparison: runs the create-order saga to its end, once per call. */
export interface PeerSystem {
  readonly name: string;
  /** PostgreSQL databases whose names start with this belong to the system (for its counters). */
  readonly databasePrefix: string;
  runSaga(i: number): Promise<void>;
  /** Processes other than this one that do the system's work (CPU is read from /proc). */
  readonly helperPids?: () => number[];
  close(): Promise<void>;
}
