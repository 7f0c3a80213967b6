/** One dependency a service needs to do its work; throws (or rejects) when it cannot. */
export type ReadinessProbe = () => Promise<unknown> | unknown;

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
}

/**
 * What GET /ready answers: every probe (store, broker, relay, consumers) run at once, each
 * bounded by `timeoutMs` so a database that hangs instead of refusing still fails the check
 * within seconds. Liveness (GET /health) is separate: a process that is alive but cannot reach
 * its database should be taken out of the load balancer, not restarted.
 */
export class Readiness {
  private readonly probes = new Map<string, ReadinessProbe>();

  constructor(private readonly options: { readonly timeoutMs?: number } = {}) {}

  add(name: string, probe: ReadinessProbe): this {
    this.probes.set(name, probe);
    return this;
  }

  async check(): Promise<ReadinessReport> {
    const timeoutMs = this.options.timeoutMs ?? 2_000;
    const entries = await Promise.all(
      [...this.probes].map(async ([name, probe]): Promise<[string, ReadinessCheck]> => {
        const started = Date.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(probe),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
          ]);
          return [name, { ok: true, ms: Date.now() - started }];
        } catch (error) {
          return [name, { ok: false, ms: Date.now() - started, error: error instanceof Error ? error.message : String(error) }];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ready: entries.every(([, c]) => c.ok), checks: Object.fromEntries(entries) };
  }
}
