export interface BackoffPolicy {
  /** First delay in ms. */
  readonly initialMs: number;
  /** Upper bound of any delay in ms. */
  readonly maxMs: number;
  readonly multiplier: number;
  /** 0..1: the share of each delay that is randomized ("equal jitter"). */
  readonly jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 50, maxMs: 5_000, multiplier: 2, jitter: 0.5 };

/** Delay before attempt `attempt + 1`, given `attempt` failures so far (1-based). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1));
  const fixed = exp * (1 - policy.jitter);
  return Math.round(fixed + exp * policy.jitter * random());
}
