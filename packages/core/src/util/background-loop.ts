/**
 * A loop of a long-lived component (a relay, a sweeper): `start` runs `body` once until
 * `stop`, which aborts its signal and waits for it to return. Starting twice is a no-op.
 */
export class BackgroundLoop {
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly body: (signal: AbortSignal) => Promise<void>) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  start(): void {
    if (this.running) return;
    const abort = (this.abort = new AbortController());
    this.running = this.body(abort.signal);
  }

  /** Aborts the loop's signal; `beforeWait` runs after that, before waiting (wake what it sleeps on). */
  async stop(beforeWait?: () => void): Promise<void> {
    this.abort?.abort();
    beforeWait?.();
    await this.running;
    this.running = undefined;
  }
}
